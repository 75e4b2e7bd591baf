// Switching fixed IP mode off end to end, every part real: `vpccni controller` processes on a
// Lease of a real kube-apiserver, the cloud emulator through the real SDK, a `vpccni agent` per
// netns node, pods wired by the compiled CNI binary through cnitool. The policy file changes to
// `enabled: false` under the running agents; the controllers read their policy at start only,
// so they are rolled (new processes with the new file, as a ConfigMap change and a rollout
// do). A new pod is refused with CNI error 104, running pods keep reaching each other, a kept
// address goes back to the VPC at once; once a node's pods are gone, the controller gives its
// ENI back and the node holds nothing of vpccni's: no ENI or IP in the cloud, no rule, route
// table, ENI link or veth, the sysctls as before, no conflist, and the Node says
// VpccniDrained=True with a Drained Event. A kill -9 of an agent in the middle of the drain
// changes none of that.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EmulatedCluster, type EmulatedNode, policyYaml, waitFor } from "../../sandbox/emulated-cluster.ts";
import { LAYOUT } from "../../sandbox/emulated-cloud.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { DELETE_POLICY_ANNOTATION, DRAINED_CONDITION, ENI_IP_RESOURCE } from "../../schema/names.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";
import { drainedCondition, vpccniKernelState } from "./switch-off-kit.ts";
import { FixedControllers, GROUP } from "../../sandbox/fixed-controllers.ts";

const RUN = Date.now().toString(36).slice(-5);
const SUITE = { "vpccni-test/suite": `fixed-off-${RUN}` };
const SPEC = {
  ipMode: "fixed",
  subnets: [LAYOUT.podSubnets[0]],
  fixedIp: { reclaim: "Immediate" },
  nodeSelector: SUITE,
};
const SYSCTLS = [
  "net.ipv4.ip_forward",
  "net.ipv4.conf.all.rp_filter",
  "net.ipv4.conf.default.rp_filter",
  "net.ipv4.conf.eth0.rp_filter",
];

describe("switching fixed IP mode off: controllers and agents drain every node, then nothing of vpccni's is left", () => {
  // registered before the shared cluster's own afterAll, so that it runs while the cluster is up
  afterAll(async () => {
    await kit.tearDown(world?.cluster?.admin);
    await world?.stop();
  }, 60_000);
  const cluster = useSharedCluster();
  const kit = new FixedControllers(
    { namespace: `fixed-off-${RUN}`, webhook: `vpccni-eni-ip-off-${RUN}` },
    () => cluster().admin,
  );
  let world: EmulatedCluster;
  const sysctlsBefore = new Map<string, string[]>();
  let since = new Date();
  const node = (i: number) => world.nodes[i] as EmulatedNode;
  const podName = (base: string) => `${base}-${RUN}`;

  const sysctls = async (n: EmulatedNode) =>
    (
      await world.bed.exec(n.ns.ns, [
        "sh",
        "-c",
        SYSCTLS.map((k) => `cat /proc/sys/${k.replaceAll(".", "/")}`).join(";"),
      ])
    ).stdout
      .trim()
      .split("\n");

  const ping = async (from: EmulatedNode, pod: string, to: string) => {
    const src = from.pods.get(pod);
    if (!src) throw new Error(`no pod ${pod} on ${from.name}`);
    const r = await world.bed.exec(src.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", to]);
    expect(r.code, `${src.ip} -> ${to}: ${r.stdout}${r.stderr}`).toBe(0);
  };

  const condition = (node: EmulatedNode) => drainedCondition(cluster().admin, node);

  const kernel = vpccniKernelState;

  /** The end state the issue asks for, on one node. */
  const expectNothingLeft = async (n: EmulatedNode) => {
    await waitFor(`${n.name} to be drained`, async () => (await n.view()).switchOff === "drained", 60_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${n.agentLog().split("\n").slice(-20).join("\n")}`);
      },
    );
    const view = await n.view();
    expect(view.summary).toMatchObject({ pods: 0, bound: 0, enis: 0 });
    expect(await kit.nodeEniConfig(n)).toBeNull();
    expect(await n.cloud()).toEqual({ enis: [], ips: [], unattachedTagged: [] });
    expect(await kernel(n)).toEqual({ rules: [], tables: [], links: [] });
    expect(await sysctls(n)).toEqual(sysctlsBefore.get(n.name) as string[]);
    expect(existsSync(join(n.netconf, "10-vpccni.conflist"))).toBe(false);
    await waitFor(
      `${n.name}'s condition ${DRAINED_CONDITION}=True`,
      async () => (await condition(n)).drained?.status === "True",
    );
    expect((await condition(n)).drained).toMatchObject({ status: "True", reason: "Drained" });
    const events = await kubeCall(
      cluster().admin,
      "GET",
      `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${n.name},reason=Drained`)}`,
    );
    const fresh = (events.json.items as { lastTimestamp: string; message: string }[]).filter(
      (e) => new Date(e.lastTimestamp) >= since,
    );
    expect(fresh).toHaveLength(1);
    expect(fresh[0]?.message).toContain("holds no secondary IP and no ENI");
    // The agent stays up, ready and serving (the DaemonSet stays healthy) until the policy is deleted.
    expect(n.agent).toBeDefined();
    expect((await n.view()).policy).toBe("e2e");
  };

  beforeAll(async () => {
    since = new Date(Date.now() - 1000);
    await kit.setUp();
    world = await EmulatedCluster.start({
      nodes: 2,
      cluster: cluster(),
      nodePrefix: `fxo${RUN}-`,
      nodeLabels: SUITE,
      spec: SPEC,
      // A slow detach: the controller's ENI give-back is in flight long enough to kill an agent in it.
      emulator: {
        settings: { asyncMs: { create: 20, attach: 100, detach: 2500, delete: 20, assign: 20, unassign: 20 } },
      },
      agentArgs: ["--add-timeout", "40s"],
    });
    kit.world = world;
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
    kit.startController("ctl-a");
    await waitFor("ctl-a to lead", async () => (await kit.leader()) === "ctl-a", 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${kit.controllerLog("ctl-a")}`);
    });
    kit.startController("ctl-b");
    await Promise.all(world.nodes.map((n) => n.startAgent()));
    await waitFor(
      "both node ENIs bound",
      async () => (await Promise.all(world.nodes.map((n) => kit.nodeEniConfig(n)))).every((c) => c?.status?.eniId),
      60_000,
    );
  }, 180_000);

  let keptIp = "";

  test("enabled: false reaches running agents and rolled controllers: a new pod refused with 104, running pods keep their network, the kept address released at once", async () => {
    const [n1, n2] = [node(0), node(1)];
    for (const base of ["a1", "a2"]) await kit.addPod(n1, podName(base));
    for (const base of ["b1", "b2"]) await kit.addPod(n2, podName(base));
    // a claim that keeps its address after its pod is gone
    const kept = podName("kept");
    keptIp = (await kit.addPod(n1, kept, { [DELETE_POLICY_ANNOTATION]: "Never" })).ip;
    await kit.removePod(n1, kept);
    await waitFor("the claim kept", async () => (await kit.claim(kept))?.status?.phase === "Kept");
    expect((await n1.cloud()).ips).toContain(keptIp);
    // the agents changed the kernel: forwarding on, reverse-path filtering off
    expect(await sysctls(n1)).toEqual(["1", "0", "0", "0"]);

    // The ConfigMap changes: the agents read the file again; the controllers are rolled.
    for (const n of [n1, n2]) n.writePolicy(policyYaml("e2e", { ...SPEC, enabled: false }));
    for (const n of [n1, n2])
      await waitFor(`${n.name} to switch off`, async () => (await n.view()).switchOff === "draining");
    for (const [next, old] of [
      ["ctl-c", "ctl-a"],
      ["ctl-d", "ctl-b"],
    ] as const) {
      kit.startController(next);
      await kit.stopController(old);
    }
    await waitFor("a rolled controller to lead", async () => ["ctl-c", "ctl-d"].includes(await kit.leader()), 30_000);
    // The kept address goes back to the VPC at once, whatever its reclaim.
    const rolled = Date.now();
    await waitFor(
      "the kept address released",
      async () =>
        (await kit.claim(kept)) === null && ![...(await n1.cloud()).ips, ...(await n2.cloud()).ips].includes(keptIp),
      15_000,
    );
    expect(Date.now() - rolled).toBeLessThan(15_000);
    // Running pods keep their addresses, on their node's ENI.
    expect((await n1.cloud()).ips).toEqual([...n1.pods.values()].map((p) => p.ip).sort());
    expect((await n2.cloud()).ips).toEqual([...n2.pods.values()].map((p) => p.ip).sort());

    // A new pod: refused at once, naming the policy; the controller makes it no claim.
    const fresh = podName("new");
    await kit.apiPod(n1, fresh);
    const pod = await n1.newPodNamespace(fresh);
    const args = `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${fresh}`;
    const started = Date.now();
    const r = await n1.execCni("ADD", pod.path, fresh, args);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).not.toBe(0);
    const error = JSON.parse(r.stdout) as { code: number; msg: string };
    expect(error.code).toBe(104);
    expect(error.msg).toContain(
      `vpccni is being switched off: policy e2e sets spec.enabled: false, so node ${n1.name} gives no new pod a VPC IP`,
    );
    expect((await n1.execCni("DEL", pod.path, fresh, args)).code).toBe(0);
    const viaLibcni = await n1.cnitool("add", pod.path, { CNI_ARGS: args });
    expect(viaLibcni.code).not.toBe(0);
    expect(`${viaLibcni.stdout}${viaLibcni.stderr}`).toContain("vpccni is being switched off");
    await n1.del(fresh, pod);
    await Bun.sleep(1_000);
    expect(await kit.claim(fresh)).toBeNull();
    await kit.deletePodObject(fresh);

    // Running pods: on the node, across nodes.
    await ping(n1, podName("a1"), n1.pods.get(podName("a2"))?.ip as string);
    await ping(n1, podName("a1"), n2.pods.get(podName("b1"))?.ip as string);
    await ping(n2, podName("b2"), n1.pods.get(podName("a2"))?.ip as string);

    // Kubernetes sees the nodes draining, and no eni-ip for new pods.
    for (const n of [n1, n2])
      await waitFor(`${n.name}: the Draining condition and eni-ip allocatable 0`, async () => {
        const c = await condition(n);
        return c.drained?.reason === "Draining" && c.allocatable?.[ENI_IP_RESOURCE] === "0";
      });
    expect((await condition(n1)).drained).toMatchObject({ status: "False", reason: "Draining" });
    expect(await kit.nodeEniConfig(n1)).not.toBeNull();
  }, 150_000);

  test("once its pods are deleted, the controller gives the node's ENI back and the node holds nothing of vpccni's, also after a restart", async () => {
    const n1 = node(0);
    for (const name of [...n1.pods.keys()]) await kit.removePod(n1, name);
    await expectNothingLeft(n1);
    // The agent stays idle: nothing comes back.
    await Bun.sleep(6_000);
    expect(await kernel(n1)).toEqual({ rules: [], tables: [], links: [] });
    expect(await sysctls(n1)).toEqual(sysctlsBefore.get(n1.name) as string[]);
    expect((await n1.view()).switchOff).toBe("drained");
    // A restart of the drained agent (a node reboot, a DaemonSet roll) changes nothing either.
    await n1.stopAgent();
    await n1.startAgent();
    await expectNothingLeft(n1);
  }, 120_000);

  test("kill -9 of an agent in the middle of the drain, then a restart: the same end state", async () => {
    const n2 = node(1);
    for (const name of [...n2.pods.keys()]) await kit.removePod(n2, name);
    // the controller gives the ENI back (the journal on its VpcENI, a 2.5 s detach): kill the agent meanwhile
    await waitFor(
      "the controller to give node 2's ENI back",
      async () => {
        const r = await kubeCall(cluster().admin, "GET", `${GROUP}/vpcenis/${n2.name}`, { allow: [404] });
        return r.status === 404 || r.json.status?.pending !== undefined;
      },
      30_000,
    );
    expect((await n2.view()).switchOff).toBe("draining");
    expect(await n2.stopAgent("SIGKILL")).not.toBe(0);
    await n2.startAgent();
    await expectNothingLeft(n2);
    // the restarted agent's own record of it
    expect(n2.agentLog()).toContain("switched off: the node holds nothing of vpccni's");
  }, 120_000);
});
