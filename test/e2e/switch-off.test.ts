// Switching vpccni off end to end (spec.enabled: false): real agents, the cloud emulator, the
// compiled CNI binary through cnitool, Node objects on a real kube-apiserver. The policy file
// changes under running agents (the ConfigMap path); a new pod is refused with CNI error 104,
// running pods keep reaching each other; once their DELs came, every node gives back all its
// IPs and ENIs, its kernel holds nothing of vpccni's (no rule, ENI table, ENI link or veth;
// the sysctls as they were before), its conflist is gone, and the Node says VpccniDrained=True
// with a Drained Event. A kill -9 in the middle of the drain changes none of that.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EmulatedCluster, type EmulatedNode, policyYaml, waitFor } from "../../sandbox/emulated-cluster.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { DRAINED_CONDITION, ENI_IP_RESOURCE } from "../../schema/names.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { drainedCondition, vpccniKernelState } from "./switch-off-kit.ts";

const SPEC = { prebind: { min: 2, max: 4 }, releaseInterval: "10m", ipCooldown: "0s" };
/** Pod names unique in the shared API server (the agents' pod GC frees IPs of pods it does not list). */
const RUN = Date.now().toString(36).slice(-5);
const SYSCTLS = [
  "net.ipv4.ip_forward",
  "net.ipv4.conf.all.rp_filter",
  "net.ipv4.conf.default.rp_filter",
  "net.ipv4.conf.eth0.rp_filter",
];

describe("switching off: spec.enabled false drains every node, then nothing of vpccni's is left", () => {
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  const sysctlsBefore = new Map<string, string[]>();
  /** Events of this suite only (other suites of the process share the API server and node names). */
  let since = new Date();
  const apiPods: string[] = [];

  const sysctls = async (node: EmulatedNode) =>
    (
      await world.bed.exec(node.ns.ns, [
        "sh",
        "-c",
        SYSCTLS.map((k) => `cat /proc/sys/${k.replaceAll(".", "/")}`).join(";"),
      ])
    ).stdout
      .trim()
      .split("\n");

  /** A pod the API server lists on the node (as the kubelet's would be), wired by the real plugin. */
  const addPod = async (node: EmulatedNode, name: string) => {
    await kubeCall(cluster().admin, "POST", "/api/v1/namespaces/default/pods", {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: { nodeName: node.name, containers: [{ name: "c", image: "example.invalid/none" }] },
      },
    });
    apiPods.push(name);
    return node.addPod(name);
  };

  const ping = async (from: EmulatedNode, fromPod: string, to: string) => {
    const src = from.pods.get(fromPod)!;
    const r = await world.bed.exec(src.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", to]);
    expect(r.code, `${src.ip} -> ${to}: ${r.stdout}${r.stderr}`).toBe(0);
  };

  const condition = (node: EmulatedNode) => drainedCondition(cluster().admin, node);

  const kernel = vpccniKernelState;

  /** The end state the issue asks for, on one node. */
  const expectNothingLeft = async (node: EmulatedNode) => {
    await waitFor(`${node.name} to be drained`, async () => (await node.view()).switchOff === "drained", 60_000);
    const view = await node.view();
    expect(view.summary).toMatchObject({ pods: 0, bound: 0, enis: 0, inflight: 0 });
    expect(await node.cloud()).toEqual({ enis: [], ips: [], unattachedTagged: [] });
    expect(await kernel(node)).toEqual({ rules: [], tables: [], links: [] });
    expect(await sysctls(node)).toEqual(sysctlsBefore.get(node.name)!);
    expect(existsSync(join(node.netconf, "10-vpccni.conflist"))).toBe(false);
    await waitFor(`${node.name}'s condition ${DRAINED_CONDITION}=True`, async () => {
      return (await condition(node)).drained?.status === "True";
    });
    expect((await condition(node)).drained).toMatchObject({ status: "True", reason: "Drained" });
    const events = await kubeCall(
      cluster().admin,
      "GET",
      `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${node.name},reason=Drained`)}`,
    );
    const fresh = (events.json.items as { lastTimestamp: string; message: string }[]).filter(
      (e) => new Date(e.lastTimestamp) >= since,
    );
    expect(fresh).toHaveLength(1);
    expect(fresh[0]!.message).toContain("holds no secondary IP and no ENI");
    // The agent stays up and serving (the DaemonSet stays healthy) until the policy is deleted.
    expect(node.agent).toBeDefined();
    expect((await node.view()).policy).toBe("e2e");
  };

  beforeAll(async () => {
    since = new Date();
    world = await EmulatedCluster.start({
      nodes: 2,
      cluster: cluster(),
      spec: SPEC,
      // A slow detach: the drain has an ENI deletion in flight long enough to kill the agent in it.
      emulator: {
        settings: { asyncMs: { create: 20, attach: 100, detach: 2500, delete: 20, assign: 20, unassign: 20 } },
      },
    });
    // Values of a node before vpccni, whatever the host's are (a new namespace inherits them).
    for (const n of world.nodes) {
      for (const [key, value] of [
        ["net.ipv4.ip_forward", "0"],
        ["net.ipv4.conf.all.rp_filter", "1"],
        ["net.ipv4.conf.default.rp_filter", "2"],
        ["net.ipv4.conf.eth0.rp_filter", "1"],
      ] as const)
        await world.bed.sysctl(n.ns.ns, key, value);
      sysctlsBefore.set(n.name, await sysctls(n));
    }
    await Promise.all(world.nodes.map((n) => n.startAgent()));
  }, 120_000);
  afterAll(async () => {
    // The shared cluster's own afterAll may have run first: the world keeps its handle.
    const admin = world?.cluster?.admin;
    if (admin)
      for (const name of apiPods)
        await kubeCall(admin, "DELETE", `/api/v1/namespaces/default/pods/${name}`, { allow: [404] }).catch(() => {});
    await world?.stop();
  }, 60_000);

  test("enabled: false reaches running agents: new pods refused with CNI error 104, running pods keep their network", async () => {
    const [n1, n2] = world.nodes as [EmulatedNode, EmulatedNode];
    for (const i of [1, 2, 3]) await addPod(n1, `${RUN}a${i}`);
    for (const i of [1, 2]) await addPod(n2, `${RUN}b${i}`);
    // The agents changed the kernel: forwarding on, reverse-path filtering off.
    expect(await sysctls(n1)).toEqual(["1", "0", "0", "0"]);

    for (const n of [n1, n2]) n.writePolicy(policyYaml("e2e", { ...SPEC, enabled: false }));
    for (const n of [n1, n2])
      await waitFor(`${n.name} to release every idle IP`, async () => {
        const v = await n.view();
        return v.switchOff === "draining" && v.summary.inflight === 0 && v.summary.bound === n.pods.size;
      });
    // Only the pods' IPs are left in the cloud.
    expect((await n1.cloud()).ips).toEqual([...n1.pods.values()].map((p) => p.ip).sort());

    // A new pod: refused at once, for good, naming the policy. Executed as a runtime does (the
    // plugin's JSON error on stdout), then through libcni (cnitool).
    const pod = await n1.newPodNamespace(`${RUN}new`);
    const args = `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${RUN}new`;
    const started = Date.now();
    const r = await n1.execCni("ADD", pod.path, `${RUN}new`, args);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).not.toBe(0);
    const error = JSON.parse(r.stdout) as { code: number; msg: string };
    expect(error.code).toBe(104);
    expect(error.msg).toContain(
      `vpccni is being switched off: policy e2e sets spec.enabled: false, so node ${n1.name} gives no new pod a VPC IP`,
    );
    expect((await n1.execCni("DEL", pod.path, `${RUN}new`, args)).code).toBe(0); // the runtime's DEL after a failed ADD
    const viaLibcni = await n1.cnitool("add", pod.path, { CNI_ARGS: args });
    expect(viaLibcni.code).not.toBe(0);
    expect(`${viaLibcni.stdout}${viaLibcni.stderr}`).toContain("vpccni is being switched off");
    await n1.del(`${RUN}new`, pod);
    // STATUS: the plugin cannot serve an ADD (50), with the same reason.
    const status = JSON.parse((await n1.execCni("STATUS", "", "", "")).stdout) as { code: number; msg: string };
    expect(status.code).toBe(50);
    expect(status.msg).toContain("sets spec.enabled: false");

    // Running pods: on the node, across nodes.
    await ping(n1, `${RUN}a1`, n1.pods.get(`${RUN}a2`)!.ip);
    await ping(n1, `${RUN}a1`, n2.pods.get(`${RUN}b1`)!.ip);
    await ping(n2, `${RUN}b2`, n1.pods.get(`${RUN}a3`)!.ip);

    // Kubernetes sees the node draining, and no eni-ip for new pods.
    await waitFor("the Draining condition and eni-ip allocatable 0", async () => {
      const c = await condition(n1);
      return c.drained?.reason === "Draining" && c.allocatable?.[ENI_IP_RESOURCE] === "0";
    });
    expect((await condition(n1)).drained).toMatchObject({ status: "False", reason: "Draining" });
  }, 120_000);

  test("once its last pod is deleted, a node holds no ENI or IP in the cloud and no rule, table, link, sysctl or conflist of vpccni's", async () => {
    const n1 = world.nodes[0]!;
    for (const name of [...n1.pods.keys()]) await n1.delPod(name);
    await expectNothingLeft(n1);
    // Repair and resync stay idle: nothing comes back.
    await Bun.sleep(6_000);
    expect(await kernel(n1)).toEqual({ rules: [], tables: [], links: [] });
    expect(await sysctls(n1)).toEqual(sysctlsBefore.get(n1.name)!);
  }, 120_000);

  test("kill -9 in the middle of the drain, then a restart with enabled: false: the drain completes from the store, nothing leaks", async () => {
    const n2 = world.nodes[1]!;
    for (const name of [...n2.pods.keys()]) await n2.delPod(name);
    await waitFor(
      "an ENI deletion in flight",
      async () => (await n2.view()).inflight.some((op) => op.decision.action === "delete-eni"),
      30_000,
    );
    expect(await n2.stopAgent("SIGKILL")).not.toBe(0);
    await n2.startAgent();
    await expectNothingLeft(n2);
    expect(n2.agentLog()).toContain("replaying an intent left open by the previous run");
  }, 120_000);
});
