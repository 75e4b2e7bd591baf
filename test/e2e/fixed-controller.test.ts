// The fixed-IP controller's passes on real parts: a real kube-apiserver holding the CRDs, the
// Nodes and the pods; the cloud emulator through the real SDK (TC3, async tasks, ClientToken);
// the controller's clock a fake one, so reclaim delays pass without waiting. Each test checks the
// objects AND the cloud: an address is on exactly the ENI the objects say, nothing else is.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as k8s from "@kubernetes/client-node";
import {
  testConfig,
  FakeClock,
  NODE_SUBNET,
  SG,
  VPC,
  startEmulatedVpc,
  type EmulatedVpc,
} from "../../runtime/cloud/emulated-vpc-kit.ts";
import type { Eni, VpcApi } from "../../runtime/cloud/types.ts";
import { FixedPass, type FixedSettings } from "../../runtime/controller/fixed-pass.ts";
import type { Address, Claim, NodeConfig, NodeEni } from "../../runtime/controller/fixed-state.ts";
import { FixedKubeClient } from "../../runtime/kube/fixed-client.ts";
import { installFixedIpCrds } from "../../sandbox/fixed-crds.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import {
  CLAIM_EXPIRED_ANNOTATION,
  DELETE_POLICY_ANNOTATION,
  ENI_SUBNET_LABEL,
  INSTANCE_ID_LABEL,
} from "../../schema/names.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

const RUN = Date.now().toString(36).slice(-5);
const NS = `fixed-${RUN}`;
const SUITE_LABEL = "vpccni-test/suite";
const SA = "subnet-fxa00001";
const SB = "subnet-fxb00001";
const ZONE = "ap-guangzhou-3";
const INSTANCES = ["ins-fx000001", "ins-fx000002", "ins-fx000003", "ins-fxbig001"];
const NODES = ["a", "b", "c", "big"].map((n) => `fx-${RUN}-${n}`);
const [NA, NB, NC, NBIG] = NODES as [string, string, string, string];
const MIN = 60_000;

const config = testConfig({
  subnets: [
    { subnetId: NODE_SUBNET, vpcId: VPC, cidrBlock: "10.2.0.0/24", zone: ZONE },
    { subnetId: SA, vpcId: VPC, cidrBlock: "10.2.20.0/24", zone: ZONE },
    { subnetId: SB, vpcId: VPC, cidrBlock: "10.2.21.0/24", zone: ZONE },
  ],
  instanceTypes: { "S5.LARGE8": { eniQuota: 3, ipsPerEni: 11 }, "S5.HUGE": { eniQuota: 3, ipsPerEni: 400 } },
  instances: INSTANCES.map((instanceId) => ({
    instanceId,
    instanceType: instanceId === "ins-fxbig001" ? "S5.HUGE" : "S5.LARGE8",
    zone: ZONE,
    subnetId: NODE_SUBNET,
  })),
});

const log = process.env.FIXED_DEBUG
  ? {
      info: (m: string, f?: unknown) => console.log(m, JSON.stringify(f)),
      warn: (m: string, f?: unknown) => console.log("WARN", m, JSON.stringify(f)),
      debug: () => {},
    }
  : { info: () => {}, warn: () => {}, debug: () => {} };

describe("the fixed-IP controller against a real API server and the emulated cloud", () => {
  // registered before the shared cluster's own afterAll, so that it runs while the cluster is up
  afterAll(async () => {
    await kubeCall(admin(), "DELETE", `/api/v1/namespaces/${NS}`, { allow: [404] }).catch(() => {});
    for (const n of NODES) await kubeCall(admin(), "DELETE", `/api/v1/nodes/${n}`, { allow: [404] }).catch(() => {});
    await vpc?.stop();
  });
  const cluster = useSharedCluster();
  let vpc: EmulatedVpc;
  let kube: FixedKubeClient;
  const settings: FixedSettings = {
    subnets: [SA, SB],
    reclaim: { kind: "Never" },
    cascade: true,
    mode: "default",
    nodeSelector: { [SUITE_LABEL]: RUN },
  };
  const passWith = (api: VpcApi) =>
    new FixedPass({ kube, api, settings: () => settings, now: () => Date.now() + skew, log });
  let pass: FixedPass;
  /** The controller's clock runs ahead by this much (the cloud's does not: TC3 signatures). */
  let skew = 0;

  const admin = () => cluster().admin;
  const get = async <T>(path: string): Promise<T | null> => {
    const r = await kubeCall(admin(), "GET", path, { allow: [404] });
    return r.status === 404 ? null : (r.json as T);
  };
  const claim = (name: string) => get<Claim>(`/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims/${name}`);
  const vip = (ip: string) => get<Address>(`/apis/vpccni.io/v1alpha1/vpcips/${ip}`);
  const nodeEni = (node: string) => get<NodeEni>(`/apis/vpccni.io/v1alpha1/vpcenis/${node}`);
  const necOf = (node: string) => get<NodeConfig>(`/apis/vpccni.io/v1alpha1/nodeeniconfigs/${node}`);
  const cloudEni = async (node: string): Promise<Eni> => {
    const id = (await nodeEni(node))?.status?.eniId;
    if (!id) throw new Error(`node ${node} has no ENI`);
    return (await vpc.api.getEni(id)) as Eni;
  };
  const addPod = async (name: string, node: string, annotations: Record<string, string> = {}) => {
    await kubeCall(admin(), "POST", `/api/v1/namespaces/${NS}/pods`, {
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, annotations },
        spec: { nodeName: node, containers: [{ name: "c", image: "example.invalid/none" }] },
      },
    });
  };
  const deletePod = async (name: string) => {
    await kubeCall(admin(), "DELETE", `/api/v1/namespaces/${NS}/pods/${name}?gracePeriodSeconds=0`, { allow: [404] });
    for (let i = 0; i < 100 && (await get(`/api/v1/namespaces/${NS}/pods/${name}`)); i++) await Bun.sleep(50);
  };
  /** Every address the cloud has on this suite's ENIs, by ENI. */
  const cloudAddresses = async () => {
    const out: Record<string, string[]> = {};
    for (const node of NODES) {
      const e = await nodeEni(node);
      if (!e?.status?.eniId) continue;
      const got = await vpc.api.getEni(e.status.eniId);
      out[node] = got?.secondaryIps ?? [];
    }
    return out;
  };

  beforeAll(async () => {
    await installFixedIpCrds(admin());
    vpc = await startEmulatedVpc({ config, clock: new FakeClock() });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(admin().path);
    kube = new FixedKubeClient(kc);
    pass = passWith(vpc.api);
    await kubeCall(admin(), "POST", "/api/v1/namespaces", { body: { metadata: { name: NS } } });
    for (const [i, name] of NODES.entries())
      await kubeCall(admin(), "POST", "/api/v1/nodes", {
        body: {
          apiVersion: "v1",
          kind: "Node",
          metadata: { name, labels: { [INSTANCE_ID_LABEL]: INSTANCES[i], [SUITE_LABEL]: RUN } },
        },
      });
  }, 120_000);

  test("each node gets one ENI with no secondary IP, in the subnet with the most room that holds its quota", async () => {
    await pass.run();
    const subnets: Record<string, string> = {};
    for (const node of [NA, NB, NC]) {
      const [veni, nec, eni] = [await nodeEni(node), await necOf(node), await cloudEni(node)];
      expect(veni?.status?.phase).toBe("Attached");
      expect(veni?.spec.reservedIPs).toBe(10);
      expect(nec?.status?.eniId).toBe(eni.id);
      expect(eni.secondaryIps).toEqual([]);
      expect(eni.attachment?.instanceId).toBe(INSTANCES[NODES.indexOf(node)]);
      expect(eni.securityGroupIds).toEqual([SG]);
      subnets[node] = eni.subnetId;
      const label = (await get<k8s.V1Node>(`/api/v1/nodes/${node}`))?.metadata?.labels?.[ENI_SUBNET_LABEL];
      expect(label).toBe(eni.subnetId);
    }
    // ties go to the first listed subnet; each node's reservation then tips the next one over
    expect(new Set(Object.values(subnets)).size).toBe(2);
    expect(subnets[NA]).toBe(subnets[NC]);
  });

  test("a node whose quota no subnet can hold gets no ENI, a message and a Warning Event", async () => {
    const nec = await necOf(NBIG);
    expect(nec?.spec.eniIPQuota).toBe(399);
    expect(nec?.status?.message).toContain("no pod subnet can hold its ENI IP quota of 399");
    expect(await nodeEni(NBIG)).toBeNull();
    expect((await vpc.api.listEnis("ins-fxbig001")).filter((e) => !e.primary)).toEqual([]);
    const events = await get<{ items: k8s.CoreV1Event[] }>(`/api/v1/namespaces/default/events`);
    expect(events?.items.some((e) => e.involvedObject.name === NBIG && e.reason === "NoSubnetFits")).toBe(true);
  });

  test("a pod gets an address of its node's ENI subnet, assigned on that ENI by address", async () => {
    await addPod("web-0", NA, { [DELETE_POLICY_ANNOTATION]: "Never" });
    await pass.run();
    const c = await claim("web-0");
    expect(c?.status, JSON.stringify(c?.status)).toMatchObject({ phase: "Bound" });
    expect(c?.status?.node).toBe(NA);
    expect(c?.spec.deletePolicy).toBe("Never");
    const eni = await cloudEni(NA);
    expect(c?.status?.eniId).toBe(eni.id);
    expect(eni.secondaryIps).toEqual([c?.status?.address as string]);
    expect(c?.status?.subnet).toBe(eni.subnetId);
    expect((await vip(c?.status?.address as string))?.status?.phase).toBe("Attached");
  });

  test("Immediate: a deleted pod's address goes back to the VPC and its objects go", async () => {
    await addPod("tmp-0", NA, { [DELETE_POLICY_ANNOTATION]: "Immediate" });
    await pass.run();
    const ip = (await claim("tmp-0"))?.status?.address as string;
    expect((await cloudEni(NA)).secondaryIps).toContain(ip);
    await deletePod("tmp-0");
    await pass.run();
    expect((await cloudEni(NA)).secondaryIps).not.toContain(ip);
    expect(await vip(ip)).toBeNull();
    expect(await claim("tmp-0")).toBeNull();
  });

  test("Never: the same name gets the same address on another node of its subnet, never across subnets", async () => {
    const ip = (await claim("web-0"))?.status?.address as string;
    await deletePod("web-0");
    await pass.run();
    expect((await claim("web-0"))?.status?.phase).toBe("Kept");
    // kept on the old ENI: unassigning would hand it back to the VPC's other tenants
    expect((await cloudEni(NA)).secondaryIps).toContain(ip);
    await addPod("web-0", NB);
    await pass.run();
    const refused = await claim("web-0");
    expect(refused?.status?.phase).toBe("Failed");
    expect(refused?.status?.message).toContain("place it on a node of");
    await deletePod("web-0");
    await addPod("web-0", NC);
    await pass.run();
    const moved = await claim("web-0");
    expect([moved?.status?.phase, moved?.status?.node, moved?.status?.address]).toEqual(["Bound", NC, ip]);
    expect((await cloudEni(NC)).secondaryIps).toContain(ip);
    expect((await cloudEni(NA)).secondaryIps).not.toContain(ip);
  });

  test("a claim-expired-duration keeps the address that long, then the timer releases it (fake clock)", async () => {
    await addPod("db-0", NC, { [CLAIM_EXPIRED_ANNOTATION]: "30m" });
    await pass.run();
    const ip = (await claim("db-0"))?.status?.address as string;
    await deletePod("db-0");
    const t0 = Date.now() + skew;
    await pass.run();
    const kept = await claim("db-0");
    expect(kept?.status?.phase).toBe("Kept");
    const expires = Date.parse(kept?.status?.expiresAt as string);
    expect(expires).toBeGreaterThanOrEqual(t0 + 30 * MIN);
    expect(expires).toBeLessThanOrEqual(Date.now() + skew + 30 * MIN);
    skew += 29 * MIN;
    await pass.run();
    expect((await claim("db-0"))?.status?.phase).toBe("Kept");
    skew += 2 * MIN;
    await pass.run();
    expect(await claim("db-0")).toBeNull();
    expect(await vip(ip)).toBeNull();
    expect((await cloudEni(NC)).secondaryIps).not.toContain(ip);
  });

  test("deleting a kept claim (kubectl delete vipc) reclaims its address at once", async () => {
    const ip = (await claim("web-0"))?.status?.address as string;
    await deletePod("web-0");
    await pass.run();
    expect((await claim("web-0"))?.status?.phase).toBe("Kept");
    await kubeCall(admin(), "DELETE", `/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims/web-0`);
    await pass.run();
    expect(await claim("web-0")).toBeNull();
    expect(await vip(ip)).toBeNull();
    expect((await cloudAddresses())[NC]).not.toContain(ip);
  });
});
