// Fixed IP mode, the node side, end to end: real agents in fixed mode, the cloud emulator
// through the real SDK, the compiled CNI binary through cnitool, and the cluster objects on a
// real kube-apiserver. The test plays the cluster controller's part as the contract says
// (docs/fixed-ip.md "Node side"): one ENI per node, created with no secondary IP and attached,
// recorded in the node's NodeENIConfig; each pod's address assigned on its node's ENI by
// address and recorded in its VpcIPClaim. The agents only read: every cloud mutation the
// emulator saw is one the test made.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MUTATING } from "../../emulator/actions/index.ts";
import { systemClock } from "../../runtime/cloud/clock.ts";
import { newApi } from "../../runtime/cloud/emulated-vpc-kit.ts";
import type { TencentVpcApi } from "../../runtime/cloud/tencent.ts";
import type { Eni } from "../../runtime/cloud/types.ts";
import {
  EmulatedCluster,
  type EmulatedNode,
  policyYaml,
  SUBNETS,
  VPC,
  waitFor,
} from "../../sandbox/emulated-cluster.ts";
import { LAYOUT } from "../../sandbox/emulated-cloud.ts";
import { installFixedIpCrds } from "../../sandbox/fixed-crds.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { CRD_API_VERSION } from "../../schema/fixed-ip-crds.ts";
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

/** Names unique in the shared API server. */
const RUN = Date.now().toString(36).slice(-5);
const QUOTA = 10;
const GROUP = `/apis/${CRD_API_VERSION}`;
/** Addresses of the large pod subnet (10.231.8.0/23) the test's "controller" hands out. */
const ADDRESS = (i: number) => `10.231.9.${i}`;

describe("fixed IP mode, the node side: the claimed address, wired by the real plugin, and no cloud mutation by the agent", () => {
  const cluster = useSharedCluster();
  let world: EmulatedCluster;
  let api: TencentVpcApi;
  /** Mutating cloud calls the test made, by action. */
  const ours = new Map<string, number>();
  const enis = new Map<string, Eni>();
  const apiPods: string[] = [];
  const claims: string[] = [];

  const admin = () => cluster().admin;
  const node = (i: number) => world.nodes[i] as EmulatedNode;

  const exec = (n: EmulatedNode, cmd: string[]) => world.bed.exec(n.ns.ns, cmd);
  const ping = async (from: EmulatedNode, fromPod: string, to: string) => {
    const src = from.pods.get(fromPod)!;
    const r = await world.bed.exec(src.pod.ns, ["ping", "-n", "-q", "-c", "1", "-W", "2", to]);
    expect(r.code, `${src.ip} -> ${to}: ${r.stdout}${r.stderr}`).toBe(0);
  };
  /** Rules that name the address, and the pod veths of the node namespace. */
  const kernel = async (n: EmulatedNode, ip: string) => {
    const rules = JSON.parse((await exec(n, ["ip", "-json", "rule", "show"])).stdout || "[]") as {
      src?: string;
      dst?: string;
    }[];
    const links = JSON.parse((await exec(n, ["ip", "-json", "link", "show"])).stdout || "[]") as { ifname: string }[];
    return {
      rules: rules.filter((r) => r.src === ip || r.dst === ip).length,
      veths: links.filter((l) => /^vpc[0-9a-f]{12}$/.test(l.ifname)).length,
    };
  };

  /** The controller's part for a node: its ENI with no secondary IP, attached, and the NodeENIConfig status. */
  const bindNodeEni = async (n: EmulatedNode) => {
    const created = await api.createEni({
      subnetId: SUBNETS.large,
      securityGroupIds: ["sg-demo0001"],
      secondaryIps: 0,
      name: `vpccni-fixed-${n.name}`,
      node: n.name,
    });
    const eni = await api.attachEni(created.id, n.instanceId);
    enis.set(n.name, eni);
    await kubeCall(admin(), "PATCH", `${GROUP}/nodeeniconfigs/${n.name}/status`, {
      contentType: "application/merge-patch+json",
      body: { status: { eni: n.name, eniId: eni.id, subnet: eni.subnetId } },
    });
  };

  const podObject = async (n: EmulatedNode, name: string) => {
    await kubeCall(admin(), "POST", "/api/v1/namespaces/default/pods", {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name },
        spec: { nodeName: n.name, containers: [{ name: "c", image: "example.invalid/none" }] },
      },
    });
    apiPods.push(name);
  };
  const claimStatus = (name: string, status: Record<string, unknown>) =>
    kubeCall(admin(), "PATCH", `${GROUP}/namespaces/default/vpcipclaims/${name}/status`, {
      contentType: "application/merge-patch+json",
      body: { status },
    });
  const newClaim = async (name: string, status: Record<string, unknown> = { phase: "Pending" }) => {
    await kubeCall(admin(), "POST", `${GROUP}/namespaces/default/vpcipclaims`, {
      body: { apiVersion: CRD_API_VERSION, kind: "VpcIPClaim", metadata: { name }, spec: { deletePolicy: "Never" } },
    });
    claims.push(name);
    await claimStatus(name, status);
  };
  /** The controller's part for a pod: the address assigned on the node's ENI, then the claim Bound. */
  const bindClaim = async (n: EmulatedNode, name: string, address: string) => {
    const eni = enis.get(n.name)!;
    expect(await api.assignIps(eni.id, { ips: [address] })).toEqual([address]);
    await claimStatus(name, { phase: "Bound", address, subnet: eni.subnetId, node: n.name, eniId: eni.id });
  };
  /** A pod of the controller's: Pod object, claim, address; then the real plugin's ADD. */
  const fixedPod = async (n: EmulatedNode, name: string, address: string) => {
    await podObject(n, name);
    await newClaim(name);
    await bindClaim(n, name, address);
    return n.addPod(name);
  };
  const cniError = (r: { stdout: string }) => JSON.parse(r.stdout) as { code: number; msg: string };
  const nodeEniIp = async (n: EmulatedNode) => {
    const got = await kubeCall(admin(), "GET", `/api/v1/nodes/${n.name}`);
    return {
      capacity: got.json.status?.capacity?.[ENI_IP_RESOURCE],
      allocatable: got.json.status?.allocatable?.[ENI_IP_RESOURCE],
    };
  };

  beforeAll(async () => {
    await installFixedIpCrds(admin());
    world = await EmulatedCluster.start({
      nodes: 2,
      cluster: cluster(),
      spec: { ipMode: "fixed", fixedIp: { reclaim: "Never" } },
      agentArgs: ["--add-timeout", "3s"],
    });
    api = newApi(world.emulator, systemClock, undefined, {
      clusterId: LAYOUT.clusterId,
      vpcId: VPC,
      observe: (o) => {
        if (MUTATING.has(o.action)) ours.set(o.action, (ours.get(o.action) ?? 0) + 1);
      },
    });
    for (const n of world.nodes) {
      await kubeCall(admin(), "DELETE", `${GROUP}/nodeeniconfigs/${n.name}`, { allow: [404] });
      await kubeCall(admin(), "POST", `${GROUP}/nodeeniconfigs`, {
        body: {
          apiVersion: CRD_API_VERSION,
          kind: "NodeENIConfig",
          metadata: { name: n.name },
          spec: { instanceId: n.instanceId, eniIPQuota: QUOTA },
        },
      });
    }
    await Promise.all(world.nodes.map((n) => n.startAgent()));
  }, 120_000);

  afterAll(async () => {
    const kc = world?.cluster?.admin;
    if (kc) {
      for (const name of apiPods)
        await kubeCall(kc, "DELETE", `/api/v1/namespaces/default/pods/${name}`, { allow: [404] }).catch(() => {});
      for (const name of claims)
        await kubeCall(kc, "DELETE", `${GROUP}/namespaces/default/vpcipclaims/${name}`, { allow: [404] }).catch(
          () => {},
        );
      for (const n of world.nodes)
        await kubeCall(kc, "DELETE", `${GROUP}/nodeeniconfigs/${n.name}`, { allow: [404] }).catch(() => {});
    }
    await world?.stop();
  }, 60_000);

  test("before the controller binds the node's ENI: STATUS answers 50 with the reason, eni-ip is 0; after: ready, eni-ip = the quota", async () => {
    const status = cniError(await node(0).execCni("STATUS", "", "", ""));
    expect(status.code).toBe(50);
    expect(status.msg).toContain("waiting for the controller to bind this node's ENI");
    await waitFor("eni-ip 0 on node1", async () => (await nodeEniIp(node(0))).capacity === "0");
    expect(await nodeEniIp(node(0))).toEqual({ capacity: "0", allocatable: "0" });

    for (const n of world.nodes) await bindNodeEni(n);
    for (const n of world.nodes)
      await waitFor(`eni-ip ${QUOTA} on ${n.name}`, async () => (await nodeEniIp(n)).allocatable === String(QUOTA));
    expect(await nodeEniIp(node(1))).toEqual({ capacity: String(QUOTA), allocatable: String(QUOTA) });
    const ok = await node(0).execCni("STATUS", "", "", "");
    expect(ok.code, ok.stdout).toBe(0);
  }, 60_000);

  test("ADD gets exactly the claimed address (waiting for the controller when it is late); pods on two nodes reach each other", async () => {
    const [n1, n2] = [node(0), node(1)];
    expect((await fixedPod(n1, `${RUN}a1`, ADDRESS(11))).ip).toBe(ADDRESS(11));
    expect((await fixedPod(n1, `${RUN}a2`, ADDRESS(12))).ip).toBe(ADDRESS(12));
    // The controller is late: the ADD waits (within the ADD timeout) until the claim is Bound here.
    await podObject(n2, `${RUN}b1`);
    await newClaim(`${RUN}b1`);
    const adding = n2.addPod(`${RUN}b1`);
    await Bun.sleep(800);
    await bindClaim(n2, `${RUN}b1`, ADDRESS(21));
    expect((await adding).ip).toBe(ADDRESS(21));

    await ping(n1, `${RUN}a1`, ADDRESS(12));
    await ping(n1, `${RUN}a1`, ADDRESS(21));
    await ping(n2, `${RUN}b1`, ADDRESS(12));
    const view = await n1.view();
    expect(view.ipMode).toBe("fixed");
    expect(view.pods.map((p) => [p.ip, p.eni])).toEqual(
      expect.arrayContaining([
        [ADDRESS(11), enis.get(n1.name)!.id],
        [ADDRESS(12), enis.get(n1.name)!.id],
      ]),
    );
    expect(view.enis.map((e) => e.id)).toEqual([enis.get(n1.name)!.id]);
  }, 60_000);

  test("DEL unwires: no rule names the address, the veth is gone, a second DEL is fine", async () => {
    const n1 = node(0);
    const before = await kernel(n1, ADDRESS(12));
    expect(before.rules).toBe(2);
    const pod = n1.pods.get(`${RUN}a2`)!.pod;
    await n1.delPod(`${RUN}a2`);
    await n1.del(`${RUN}a2`, pod);
    await waitFor("the veth of a2 to go", async () => (await kernel(n1, ADDRESS(12))).veths === before.veths - 1);
    expect(await kernel(n1, ADDRESS(12))).toEqual({ rules: 0, veths: before.veths - 1 });
    expect((await n1.view()).pods.map((p) => p.ip)).not.toContain(ADDRESS(12));
  }, 60_000);

  test("a claim that never binds here: CNI error 11 within the ADD timeout, naming the claim and the controller's word, or the node it is bound to", async () => {
    const n1 = node(0);
    const failed = `${RUN}f1`;
    await podObject(n1, failed);
    await newClaim(failed, { phase: "Failed", message: "subnet-pods0001 has no free address" });
    const pod = await n1.newPodNamespace(failed);
    const args = `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${failed}`;
    const started = Date.now();
    const r = await n1.execCni("ADD", pod.path, failed, args);
    const took = Date.now() - started;
    expect(r.code).not.toBe(0);
    expect(took).toBeGreaterThanOrEqual(2_500);
    expect(took).toBeLessThan(6_000);
    const e = cniError(r);
    expect(e.code).toBe(11);
    expect(e.msg).toContain(`no fixed IP for pod default/${failed} on node ${n1.name}`);
    expect(e.msg).toContain(
      `VpcIPClaim default/${failed} is Failed; the controller says: subnet-pods0001 has no free address`,
    );
    expect((await n1.execCni("DEL", pod.path, failed, args)).code).toBe(0); // the runtime's DEL after a failed ADD

    // Bound to the other node: the agent waits (the controller moves it), then names that node.
    const elsewhere = `${RUN}f2`;
    await podObject(n1, elsewhere);
    await newClaim(elsewhere, {
      phase: "Bound",
      address: ADDRESS(99),
      subnet: SUBNETS.large,
      node: node(1).name,
      eniId: enis.get(node(1).name)!.id,
    });
    const viaLibcni = await n1.cnitool("add", (await n1.newPodNamespace(elsewhere)).path, {
      CNI_ARGS: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${elsewhere}`,
    });
    expect(viaLibcni.code).not.toBe(0);
    expect(`${viaLibcni.stdout}${viaLibcni.stderr}`).toContain(
      `VpcIPClaim default/${elsewhere} is bound to node ${node(1).name}, not ${n1.name}`,
    );
  }, 60_000);

  test("same name moves: the address leaves node1's ENI for node2's, and the pod of that name on node2 gets it and is reachable", async () => {
    const [n1, n2] = [node(0), node(1)];
    const name = `${RUN}m1`;
    expect((await fixedPod(n1, name, ADDRESS(31))).ip).toBe(ADDRESS(31));
    await ping(n2, `${RUN}b1`, ADDRESS(31));
    // The pod is deleted on node1 (the kept address stays on node1's ENI) ...
    await n1.delPod(name);
    // No kubelet here to finish a graceful deletion: gone at once, as a kubelet would confirm.
    await kubeCall(admin(), "DELETE", `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
    await waitFor(
      `pod ${name} to be gone`,
      async () =>
        (await kubeCall(admin(), "GET", `/api/v1/namespaces/default/pods/${name}`, { allow: [404] })).status === 404,
    );
    // ... and created again on node2: the controller unassigns it there and assigns it here.
    await podObject(n2, name);
    await claimStatus(name, { phase: "Pending" });
    expect(await api.unassignIps(enis.get(n1.name)!.id, [ADDRESS(31)])).toEqual([ADDRESS(31)]);
    await bindClaim(n2, name, ADDRESS(31));
    expect((await n2.addPod(name)).ip).toBe(ADDRESS(31));
    await ping(n1, `${RUN}a1`, ADDRESS(31));
    await ping(n2, `${RUN}b1`, ADDRESS(31));
    expect(await kernel(n1, ADDRESS(31))).toMatchObject({ rules: 0 });
  }, 60_000);

  test("an agent killed and started again: its pods stay wired and reachable, and a later DEL unwires them", async () => {
    const [n1, n2] = [node(0), node(1)];
    expect(await n1.stopAgent("SIGKILL")).not.toBe(0);
    await ping(n2, `${RUN}b1`, ADDRESS(11));
    await n1.startAgent();
    expect((await n1.view()).pods.map((p) => p.ip)).toEqual([ADDRESS(11)]);
    await ping(n2, `${RUN}b1`, ADDRESS(11));
    await ping(n1, `${RUN}a1`, ADDRESS(21));
    await n1.delPod(`${RUN}a1`);
    expect((await kernel(n1, ADDRESS(11))).rules).toBe(0);
    expect((await n1.view()).pods).toEqual([]);
  }, 60_000);

  test("switched off (spec.enabled: false): a new pod is refused with CNI error 104, running pods keep their address, eni-ip allocatable 0", async () => {
    const n2 = node(1);
    n2.writePolicy(policyYaml("e2e", { ipMode: "fixed", fixedIp: { reclaim: "Never" }, enabled: false }));
    await waitFor("node2's switch-off", async () => (await n2.view()).switchOff === "draining");
    const name = `${RUN}off`;
    await podObject(n2, name);
    await newClaim(name);
    const pod = await n2.newPodNamespace(name);
    const args = `K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name}`;
    const started = Date.now();
    const r = await n2.execCni("ADD", pod.path, name, args);
    expect(Date.now() - started).toBeLessThan(2_000);
    const e = cniError(r);
    expect(e.code).toBe(104);
    expect(e.msg).toContain("vpccni is being switched off: policy e2e sets spec.enabled: false");
    expect((await n2.execCni("DEL", pod.path, name, args)).code).toBe(0);
    const status = cniError(await n2.execCni("STATUS", "", "", ""));
    expect(status.code).toBe(50);
    await ping(n2, `${RUN}b1`, ADDRESS(31));
    await waitFor("eni-ip allocatable 0 on node2", async () => (await nodeEniIp(n2)).allocatable === "0");
    expect(await nodeEniIp(n2)).toEqual({ capacity: String(QUOTA), allocatable: "0" });
  }, 60_000);

  test("the agents made no cloud mutation: every one the emulator saw is the test's", async () => {
    const seen = Object.fromEntries(
      Object.entries(world.emulator.admin.stats())
        .filter(([action]) => MUTATING.has(action))
        .map(([action, byCode]) => [action, Object.values(byCode).reduce((a, b) => a + b, 0)]),
    );
    expect(seen).toEqual(Object.fromEntries(ours));
    // and they did read: the ENIs of their instance and the ENI the claims name
    expect(world.emulator.admin.stats().DescribeNetworkInterfaces?.OK ?? 0).toBeGreaterThan(0);
  });
});
