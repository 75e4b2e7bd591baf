// Fixed IP mode on a cluster of two zones, on real parts: a real kube-apiserver holding the CRDs
// and the Nodes, the cloud emulator through the real SDK (it refuses to attach an ENI to an
// instance of another zone, as the cloud does), the controller's passes. Each node's ENI goes
// into a policy subnet of its own zone even when another zone's subnet has far more free IPs; a
// node whose zone has no subnet of the policy, or none that holds its quota, gets no ENI, a
// Warning Event naming its zone and the subnets with theirs, and the cloud holds nothing for it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as k8s from "@kubernetes/client-node";
import {
  FakeClock,
  SG,
  startEmulatedVpc,
  testConfig,
  VPC,
  type EmulatedVpc,
} from "../../runtime/cloud/emulated-vpc-kit.ts";
import type { Eni } from "../../runtime/cloud/types.ts";
import { FixedPass, type FixedSettings } from "../../runtime/controller/fixed-pass.ts";
import type { Claim, NodeConfig, NodeEni } from "../../runtime/controller/fixed-state.ts";
import { FixedKubeClient } from "../../runtime/kube/fixed-client.ts";
import { installFixedIpCrds } from "../../sandbox/fixed-crds.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import { DELETE_POLICY_ANNOTATION, ENI_SUBNET_LABEL, INSTANCE_ID_LABEL } from "../../schema/names.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

const RUN = Date.now().toString(36).slice(-5);
const NS = `fixed-zones-${RUN}`;
const SUITE_LABEL = "vpccni-test/suite";
const [Z3, Z4, Z5] = ["ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-5"];
const NODES_Z3 = "subnet-fznod003";
const NODES_Z4 = "subnet-fznod004";
const NODES_Z5 = "subnet-fznod005";
/** Zone 3's pod subnet is small (a /26), zone 4's large (a /22): rule 8 alone would pick zone 4's. */
const PODS_Z3 = "subnet-fzpod003";
const PODS_Z4 = "subnet-fzpod004";
const MUTATIONS = ["CreateNetworkInterface", "AttachNetworkInterface", "AssignPrivateIpAddresses"];
/** TKE labels a Node with the zone's numeric ID; the VPC API names zones ap-guangzhou-3. */
const ZONE_LABEL = "topology.kubernetes.io/zone";
const zoneId = (zone: string) => `10000${zone.slice(-1)}`;

/** node -> [instance, zone, instance type, whether the Node carries TKE's zone label]. */
const LAYOUT = {
  a3: ["ins-fz000a03", Z3, "S5.LARGE8", true],
  b3: ["ins-fz000b03", Z3, "S5.LARGE8", false],
  a4: ["ins-fz000a04", Z4, "S5.LARGE8", false],
  b4: ["ins-fz000b04", Z4, "S5.LARGE8", true],
  big3: ["ins-fzbig003", Z3, "S5.WIDE", true],
  a5: ["ins-fz000a05", Z5, "S5.LARGE8", true],
} as const;
/** A node of zone 3 whose Node comes late, with a VpcENI an older controller journaled in zone 4. */
const STALE = ["ins-fz000c03", Z3, "S5.LARGE8", true] as const;
type Short = keyof typeof LAYOUT | "stale3";
const nodeName = (n: Short) => `fz-${RUN}-${n}`;
const instanceOf = (n: Short) => (n === "stale3" ? STALE : LAYOUT[n])[0];

const config = testConfig({
  subnets: [
    { subnetId: NODES_Z3, vpcId: VPC, cidrBlock: "10.2.0.0/24", zone: Z3 },
    { subnetId: NODES_Z4, vpcId: VPC, cidrBlock: "10.2.1.0/24", zone: Z4 },
    { subnetId: NODES_Z5, vpcId: VPC, cidrBlock: "10.2.2.0/24", zone: Z5 },
    { subnetId: PODS_Z3, vpcId: VPC, cidrBlock: "10.2.40.0/26", zone: Z3 },
    { subnetId: PODS_Z4, vpcId: VPC, cidrBlock: "10.2.44.0/22", zone: Z4 },
  ],
  // quota 10 a node; the wide type's 99 fits zone 4's subnet but not zone 3's
  instanceTypes: { "S5.LARGE8": { eniQuota: 3, ipsPerEni: 11 }, "S5.WIDE": { eniQuota: 3, ipsPerEni: 100 } },
  instances: [...Object.values(LAYOUT), STALE].map(([instanceId, zone, instanceType]) => ({
    instanceId,
    instanceType,
    zone,
    subnetId: zone === Z3 ? NODES_Z3 : zone === Z4 ? NODES_Z4 : NODES_Z5,
  })),
});

const log = { info: () => {}, warn: () => {}, debug: () => {} };

describe("fixed IP on two zones: each node's ENI in a subnet of its own zone", () => {
  afterAll(async () => {
    await kubeCall(admin(), "DELETE", `/api/v1/namespaces/${NS}`, { allow: [404] }).catch(() => {});
    for (const n of [...Object.keys(LAYOUT), "stale3"] as Short[])
      await kubeCall(admin(), "DELETE", `/api/v1/nodes/${nodeName(n)}`, { allow: [404] }).catch(() => {});
    await vpc?.stop();
  });
  const cluster = useSharedCluster();
  const admin = () => cluster().admin;
  let vpc: EmulatedVpc;
  let kube: FixedKubeClient;
  let pass: FixedPass;
  const settings: FixedSettings = {
    subnets: [PODS_Z3, PODS_Z4],
    reclaim: { kind: "Never" },
    cascade: false,
    mode: "default",
    nodeSelector: { [SUITE_LABEL]: RUN },
  };

  const get = async <T>(path: string): Promise<T | null> => {
    const r = await kubeCall(admin(), "GET", path, { allow: [404] });
    return r.status === 404 ? null : (r.json as T);
  };
  const nodeEni = (n: Short) => get<NodeEni>(`/apis/vpccni.io/v1alpha1/vpcenis/${nodeName(n)}`);
  const necOf = (n: Short) => get<NodeConfig>(`/apis/vpccni.io/v1alpha1/nodeeniconfigs/${nodeName(n)}`);
  const cloudEni = async (n: Short): Promise<Eni> => {
    const id = (await nodeEni(n))?.status?.eniId;
    if (!id) throw new Error(`node ${nodeName(n)} has no ENI: ${JSON.stringify((await necOf(n))?.status)}`);
    return (await vpc.api.getEni(id)) as Eni;
  };
  const secondaryEnis = async (n: Short) => (await vpc.api.listEnis(instanceOf(n))).filter((e) => !e.primary);
  const warnings = async (n: Short) =>
    (
      (
        await get<{ items: k8s.CoreV1Event[] }>(
          `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${nodeName(n)}`,
        )
      )?.items ?? []
    ).filter((e) => e.type === "Warning");

  beforeAll(async () => {
    await installFixedIpCrds(admin());
    vpc = await startEmulatedVpc({ config, clock: new FakeClock() });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(admin().path);
    kube = new FixedKubeClient(kc);
    pass = new FixedPass({ kube, api: vpc.api, settings: () => settings, now: () => Date.now(), log });
    await kubeCall(admin(), "POST", "/api/v1/namespaces", { body: { metadata: { name: NS } } });
    // some Nodes carry TKE's zone label (a numeric zone ID, not the VPC API's zone name), some
    // none: the controller asks the cloud for the instance's zone either way
    for (const [n, [instance, zone, , labelled]] of Object.entries(LAYOUT))
      await kubeCall(admin(), "POST", "/api/v1/nodes", {
        body: {
          apiVersion: "v1",
          kind: "Node",
          metadata: {
            name: nodeName(n as Short),
            labels: {
              [INSTANCE_ID_LABEL]: instance,
              [SUITE_LABEL]: RUN,
              ...(labelled ? { [ZONE_LABEL]: zoneId(zone) } : {}),
            },
          },
        },
      });
    await pass.run();
  }, 120_000);

  test("each node's ENI lands in its own zone's subnet, even when the other zone's has many more free IPs", async () => {
    const free = Object.fromEntries(
      (await vpc.api.describeSubnets([PODS_Z3, PODS_Z4])).map((s) => [s.id, s.availableIps]),
    );
    expect(free[PODS_Z4]!).toBeGreaterThan(10 * free[PODS_Z3]!);
    for (const [n, zone, subnet] of [
      ["a3", Z3, PODS_Z3],
      ["b3", Z3, PODS_Z3],
      ["a4", Z4, PODS_Z4],
      ["b4", Z4, PODS_Z4],
    ] as const) {
      const [veni, nec, eni] = [await nodeEni(n), await necOf(n), await cloudEni(n)];
      expect(veni?.status?.phase).toBe("Attached");
      expect(veni?.spec.subnet).toBe(subnet);
      expect(nec?.status?.subnet).toBe(subnet);
      expect([eni.subnetId, eni.zone, eni.attachment?.instanceId]).toEqual([subnet, zone, instanceOf(n)]);
      expect(eni.securityGroupIds).toEqual([SG]);
      const label = (await get<k8s.V1Node>(`/api/v1/nodes/${nodeName(n)}`))?.metadata?.labels?.[ENI_SUBNET_LABEL];
      expect(label).toBe(subnet);
      expect(await warnings(n)).toEqual([]);
    }
    // one ENI made and attached per node of a zone with room, and the cloud refused nothing
    // (an ENI in another zone's subnet is made, then its attach refused: ZoneMismatch)
    const stats = vpc.emu.admin.stats();
    expect(Object.fromEntries(MUTATIONS.map((a) => [a, stats[a]]))).toEqual({
      CreateNetworkInterface: { OK: 4 },
      AttachNetworkInterface: { OK: 4 },
      AssignPrivateIpAddresses: undefined,
    });
  });

  test("a pod's address comes from its node's zone subnet, assigned on that node's ENI", async () => {
    for (const [pod, n] of [
      ["z3-0", "a3"],
      ["z4-0", "b4"],
    ] as const)
      await kubeCall(admin(), "POST", `/api/v1/namespaces/${NS}/pods`, {
        body: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: pod, annotations: { [DELETE_POLICY_ANNOTATION]: "Immediate" } },
          spec: { nodeName: nodeName(n), containers: [{ name: "c", image: "example.invalid/none" }] },
        },
      });
    await pass.run();
    for (const [pod, n, subnet] of [
      ["z3-0", "a3", PODS_Z3],
      ["z4-0", "b4", PODS_Z4],
    ] as const) {
      const c = await get<Claim>(`/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims/${pod}`);
      expect(c?.status, JSON.stringify(c?.status)).toMatchObject({ phase: "Bound", subnet, node: nodeName(n) });
      expect((await cloudEni(n)).secondaryIps).toEqual([c?.status?.address as string]);
    }
  });

  test("a node whose zone has no subnet of the policy: no ENI, a NoSubnetInZone Event naming its zone and the subnets with theirs, nothing in the cloud", async () => {
    const why = (await necOf("a5"))?.status?.message ?? "";
    expect(why).toContain(`${nodeName("a5")} is in zone ${Z5}`);
    expect(why).toContain(`${PODS_Z3} (${Z3})`);
    expect(why).toContain(`${PODS_Z4} (${Z4})`);
    expect(await nodeEni("a5")).toBeNull();
    expect(await secondaryEnis("a5")).toEqual([]);
    const events = await warnings("a5");
    expect(events.map((e) => [e.reason, e.message])).toEqual([["NoSubnetInZone", why]]);
  });

  test("a node whose zone's subnets cannot hold its quota: no ENI in another zone's subnet that could, a NoSubnetFits Event naming the zones", async () => {
    const why = (await necOf("big3"))?.status?.message ?? "";
    expect(why).toContain(`${nodeName("big3")} is in zone ${Z3}`);
    expect(why).toContain("ENI IP quota of 99");
    expect(why).toContain(`${PODS_Z3} (${Z3}):`);
    expect(why).toContain(`${PODS_Z4} (${Z4})`);
    expect(await nodeEni("big3")).toBeNull();
    expect(await secondaryEnis("big3")).toEqual([]);
    // the status has the current free counts; the one Event, those of the first refusal
    const blank = (m: string) => m.replace(/\d+/g, "#");
    const events = await warnings("big3");
    expect(events.map((e) => [e.reason, blank(e.message ?? "")])).toEqual([["NoSubnetFits", blank(why)]]);
  });

  test("the next passes change nothing: no retry of a refused node, one Event per refusal", async () => {
    const before = await Promise.all((["a3", "b3", "a4", "b4"] as const).map(async (n) => (await cloudEni(n)).id));
    const report = await pass.run();
    expect(report.decisions).toBe(0);
    expect(report.refusals.map((r) => [r.subject, r.code]).sort()).toEqual([
      [`node/${nodeName("a5")}`, "no-subnet-in-zone"],
      [`node/${nodeName("big3")}`, "no-subnet-fits"],
    ]);
    expect(await Promise.all((["a3", "b3", "a4", "b4"] as const).map(async (n) => (await cloudEni(n)).id))).toEqual(
      before,
    );
    for (const n of ["a5", "big3"] as const) {
      expect(await secondaryEnis(n)).toEqual([]);
      expect(await warnings(n)).toHaveLength(1);
    }
  });

  test("a create journaled in another zone's subnet (an older controller's): the refused attach is not retried for ever; the ENI goes and the node is bound in its own zone", async () => {
    const name = nodeName("stale3");
    const [instance, zone] = STALE;
    await kube.create<NodeConfig>("nodeeniconfigs", {
      metadata: { name },
      spec: { instanceId: instance, eniIPQuota: 10 },
    });
    const veni = await kube.create<NodeEni>("vpcenis", {
      metadata: { name },
      spec: { node: name, subnet: PODS_Z4, reservedIPs: 10 },
    });
    const pending = { action: "create-eni" as const, clientToken: `stale-${RUN}`, startedAt: new Date().toISOString() };
    await kube.updateStatus<NodeEni>("vpcenis", { ...veni, status: { phase: "Creating", pending } });
    await kubeCall(admin(), "POST", "/api/v1/nodes", {
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name, labels: { [INSTANCE_ID_LABEL]: instance, [SUITE_LABEL]: RUN, [ZONE_LABEL]: zoneId(zone) } },
      },
    });
    const before = vpc.emu.admin.stats().AttachNetworkInterface ?? {};
    await pass.run();
    // the zone-4 ENI was made (the journal's create), its attach refused once, then it was deleted
    const after = vpc.emu.admin.stats().AttachNetworkInterface ?? {};
    expect(Object.keys(after).filter((code) => code !== "OK")).toHaveLength(1);
    expect(Object.values(after).reduce((a, b) => a + b, 0) - Object.values(before).reduce((a, b) => a + b, 0)).toBe(2);
    const left = await vpc.api.findEnis({ subnetId: PODS_Z4 });
    expect(left.filter((e) => e.attachment === undefined)).toEqual([]);
    const eni = await cloudEni("stale3");
    expect([eni.subnetId, eni.zone, eni.attachment?.instanceId]).toEqual([PODS_Z3, Z3, instance]);
    expect((await nodeEni("stale3"))?.spec.subnet).toBe(PODS_Z3);
    await pass.run();
    expect((await cloudEni("stale3")).id).toBe(eni.id);
    expect(await secondaryEnis("stale3")).toHaveLength(1);
  });
});
