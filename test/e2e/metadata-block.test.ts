// Pods cannot reach the CVM metadata service, and so the node role's credentials, unless the
// policy sets spec.dataPlane.podMetadataAccess. The test bed puts the emulated metadata service
// where a CVM has it, off the node at 169.254.0.23 (here on the `vpc` router), reached through
// eth0's default route; the node still reaches it. docs/security.md#metadata-service-and-pods.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { METADATA_IP } from "../../sandbox/kubelet.ts";
import { forwardIntoNetns, type NetnsForward } from "../../sandbox/netns-forward.ts";
import { EmulatedCluster } from "../../sandbox/emulated-cluster.ts";

for (const podMetadataAccess of [false, true]) {
  describe(`pods and the metadata service, podMetadataAccess: ${podMetadataAccess}`, () => {
    let world: EmulatedCluster;
    let forward: NetnsForward | undefined;
    beforeAll(async () => {
      world = await EmulatedCluster.start({
        nodes: 1,
        spec: { prebind: { min: 1, max: 2 }, dataPlane: { podMetadataAccess } },
      });
      const { bed } = world;
      await bed.ip(bed.vpc, "addr", "add", `${METADATA_IP}/32`, "dev", "lo");
      const metadata = world.emulator.instanceMetadataServer(world.nodes[0]!.instanceId);
      forward = await forwardIntoNetns({
        bed,
        ns: bed.vpc,
        port: 80,
        listenHost: METADATA_IP,
        target: { port: metadata.port },
      });
      await world.nodes[0]!.startAgent();
    }, 120_000);
    afterAll(async () => {
      await forward?.stop();
      await world?.bed.ip(world.bed.vpc, "addr", "del", `${METADATA_IP}/32`, "dev", "lo").catch(() => {});
      await world?.stop();
    }, 60_000);

    const curl = (ns: string) =>
      world.bed.exec(ns, ["curl", "-sS", "-m", "3", `http://${METADATA_IP}/latest/meta-data/instance-id`]);

    test("the node reaches the metadata service", async () => {
      const n = world.nodes[0]!;
      const r = await curl(n.ns.ns);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(n.instanceId);
    });

    test(podMetadataAccess ? "a pod reaches it too (opted in)" : "a pod does not (ICMP prohibited)", async () => {
      const n = world.nodes[0]!;
      const { pod } = await n.addPod("meta");
      const r = await curl(pod.ns);
      if (podMetadataAccess) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(n.instanceId);
      } else {
        expect(r.code).not.toBe(0);
        expect(r.stdout).not.toContain(n.instanceId);
        // the pod still reaches the VPC: the block is for one address only
        const gw = await world.bed.exec(pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", world.bed.gateway]);
        expect(gw.code, gw.stdout + gw.stderr).toBe(0);
      }
      const table = (await n.view()).enis[0]!.routeTable;
      const routes = await world.bed.ip(n.ns.ns, "route", "show", "table", String(table));
      expect(routes.includes(`prohibit ${METADATA_IP}`)).toBe(!podMetadataAccess);
    });
  });
}
