// Zones end to end: the cloud attaches an ENI only to an instance of its subnet's zone, so each
// node grows its pool only in the policy's subnets of its own zone. A node whose zone has no
// subnet of the policy makes no cloud mutation at all: a Warning Event on the Node says why, ADD
// fails with the plugin's code 103 (not 11: waiting does not help) and STATUS is not ready.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { emulatorConfig, LAYOUT } from "../../sandbox/emulated-cloud.ts";
import { EmulatedCluster, type EmulatedNode, policyYaml, waitFor } from "../../sandbox/emulated-cluster.ts";
import type { Cluster } from "../../sandbox/apiserver.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

const [Z3_PODS, Z4_PODS] = LAYOUT.podSubnets as [string, string];
const SPEC = { prebind: { min: 3, max: 6 }, releaseInterval: "10m", ipCooldown: "0s" };
const MUTATIONS = [
  "CreateNetworkInterface",
  "AttachNetworkInterface",
  "DetachNetworkInterface",
  "DeleteNetworkInterface",
  "AssignPrivateIpAddresses",
  "UnassignPrivateIpAddresses",
];

/** Two nodes, one per zone; the example policy's first pod subnet is in zone 3, its second in zone 4. */
function twoZones(cluster: Cluster, spec: Record<string, unknown>) {
  const { subnets, instances } = emulatorConfig(2, undefined, LAYOUT, 2);
  return EmulatedCluster.start({ nodes: 2, cluster, emulator: { subnets, instances }, spec });
}

async function settled(node: EmulatedNode): Promise<void> {
  await waitFor(`${node.name} to settle`, async () => (await node.view()).summary.inflight === 0, 60_000);
}

async function events(cluster: Cluster, node: string): Promise<{ reason: string; type: string; message: string }[]> {
  const res = await kubeCall(
    cluster.admin,
    "GET",
    `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${node}`,
  );
  return res.json.items;
}

/** CNI ADD as a runtime execs it; the parsed result or the CNI error printed on stdout. */
async function add(node: EmulatedNode, name: string): Promise<{ code: number; msg?: string; ip?: string }> {
  const ns = await node.newPodNamespace(name);
  const r = await node.execCni(
    "ADD",
    ns.path,
    `zones${node.name}${name}`,
    `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name}`,
  );
  const out = JSON.parse(r.stdout) as { code?: number; msg?: string; ips?: { address: string }[] };
  return r.code === 0 ? { code: 0, ip: out.ips?.[0]?.address.split("/")[0] } : { code: out.code ?? -1, msg: out.msg };
}

describe("two zones, a policy listing a subnet in each", () => {
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  beforeAll(async () => {
    world = await twoZones(cluster(), SPEC);
    await Promise.all(world.nodes.map((n) => n.startAgent()));
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test("each node's ENIs land only in its own zone's subnet, even when the other zone's has more free IPs", async () => {
    const [n1, n2] = world.nodes as [EmulatedNode, EmulatedNode];
    const zones = Object.fromEntries(world.emulator.inventory().instances.map((i) => [i.instanceId, i.zone]));
    expect([zones[n1.instanceId], zones[n2.instanceId]]).toEqual(["ap-guangzhou-3", "ap-guangzhou-4"]);
    for (const n of [n1, n2]) {
      await waitFor(`${n.name} to bind min prebind`, async () => (await n.view()).summary.bound >= 3, 60_000);
      await settled(n);
    }
    // More pods than one ENI holds on node2: its second ENI also goes to zone 4's small subnet,
    // although zone 3's subnet has several times its free IPs (rule 6 alone would pick that one).
    for (let i = 0; i < 12; i++) await n2.addPod(`z4-${i}`);
    await n1.addPod("z3-0");
    await settled(n2);
    const [v1, v2] = [await n1.view(), await n2.view()];
    expect(new Set(v1.enis.map((e) => e.subnet))).toEqual(new Set([Z3_PODS]));
    expect(v2.enis.length).toBeGreaterThanOrEqual(2);
    expect(new Set(v2.enis.map((e) => e.subnet))).toEqual(new Set([Z4_PODS]));
    // Not a single attach was refused: no ENI was made in a zone it could not attach in.
    const stats = world.emulator.admin.stats();
    expect(Object.keys(stats.AttachNetworkInterface ?? {})).toEqual(["OK"]);
    // Pods of the two zones reach each other through the VPC.
    const from = n1.pods.get("z3-0")!;
    const to = n2.pods.get("z4-11")!;
    const r = await world.bed.exec(from.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", to.ip]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  test("a policy change that leaves a node's zone without a subnet: its pods and ENIs stay, idle IPs serve, then ADD fails with 103 and nothing is made", async () => {
    const n1 = world.nodes[0]!;
    await settled(n1);
    const before = await n1.cloud();
    n1.writePolicy(policyYaml("zones", { ...SPEC, subnets: [Z4_PODS] }));
    await waitFor("a NoSubnetInZone Event on node1", async () =>
      (await events(cluster(), n1.name)).some(
        (e) =>
          e.reason === "NoSubnetInZone" &&
          e.type === "Warning" &&
          e.message.startsWith(
            `node node1 is in zone ap-guangzhou-3, but no subnet of policy zones is: ${Z4_PODS} (ap-guangzhou-4);`,
          ),
      ),
    );
    // The IPs the node holds still serve new pods (they drain as pods come and go); after them,
    // the next ADD is refused at once with the reason, and no ENI or IP was added.
    const idle = (await n1.view()).summary.ready;
    for (let i = 0; i < idle; i++) expect((await add(n1, `drain${i}`)).code).toBe(0);
    const refused = await add(n1, "refused");
    expect(refused.code).toBe(103);
    expect(refused.msg).toContain("no IP for default/refused: node node1 is in zone ap-guangzhou-3");
    const status = await n1.execCni("STATUS", "", "", "");
    expect(JSON.parse(status.stdout)).toMatchObject({ code: 50 });
    expect(JSON.parse(status.stdout).msg).toContain("an ENI attaches only to an instance of its own zone");
    await settled(n1);
    expect(await n1.cloud()).toEqual(before);
    // The first pod, on the ENI the policy no longer lets grow, still reaches node2's pods.
    const r = await world.bed.exec(n1.pods.get("z3-0")!.pod.ns, [
      "ping",
      "-n",
      "-q",
      "-c",
      "1",
      "-W",
      "2",
      world.nodes[1]!.pods.get("z4-0")!.ip,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Its zone listed again: the pool grows at once and the next pod gets an IP.
    n1.writePolicy(policyYaml("zones", SPEC));
    await waitFor("STATUS ready on node1", async () => (await n1.execCni("STATUS", "", "", "")).code === 0);
    expect((await add(n1, "again")).code).toBe(0);
  }, 120_000);
});

describe("a node whose zone has no subnet of the policy", () => {
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  beforeAll(async () => {
    // Only zone 3's subnet, and only node2's agent (zone 4): every cloud call is node2's.
    world = await twoZones(cluster(), { ...SPEC, subnets: [Z3_PODS] });
    await world.nodes[1]!.startAgent();
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test("a Warning Event names its zone and the policy's subnets with theirs; ADD fails with 103, STATUS 50; no mutating cloud call", async () => {
    const n2 = world.nodes[1]!;
    const reason = `node node2 is in zone ap-guangzhou-4, but no subnet of policy e2e is: ${Z3_PODS} (ap-guangzhou-3); an ENI attaches only to an instance of its own zone, so this node creates no ENI and new pods get no IP until spec.subnets lists a subnet of ap-guangzhou-4`;
    await waitFor("a NoSubnetInZone Event on node2", async () =>
      (await events(cluster(), n2.name)).some((e) => e.reason === "NoSubnetInZone" && e.message === reason),
    );
    const refused = await add(n2, "web");
    expect(refused).toEqual({ code: 103, msg: `no IP for default/web: ${reason}` });
    const status = await n2.execCni("STATUS", "", "", "");
    expect(status.code).not.toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ code: 50, msg: `node agent cannot assign an IP now: ${reason}` });
    expect((await n2.view()).summary).toMatchObject({ bound: 0, enis: 0, waiting: 0, inflight: 0 });
    // Reads only: the instance's quota, its ENIs, the subnets.
    const stats = world.emulator.admin.stats();
    expect(MUTATIONS.filter((a) => stats[a] !== undefined)).toEqual([]);
    expect(Object.keys(stats).sort()).toEqual([
      "DescribeNetworkInterfaceLimit",
      "DescribeNetworkInterfaces",
      "DescribeSubnets",
    ]);
  });

  test("once the policy lists a subnet of its zone, the node grows there and pods get IPs", async () => {
    const n2 = world.nodes[1]!;
    n2.writePolicy(policyYaml("e2e", { ...SPEC, subnets: [Z3_PODS, Z4_PODS] }));
    await waitFor("STATUS ready on node2", async () => (await n2.execCni("STATUS", "", "", "")).code === 0);
    expect((await add(n2, "late")).code).toBe(0);
    await settled(n2);
    const view = await n2.view();
    expect(new Set(view.enis.map((e) => e.subnet))).toEqual(new Set([Z4_PODS]));
    expect(view.summary.bound).toBeGreaterThanOrEqual(view.summary.pods + 3);
  }, 90_000);
});
