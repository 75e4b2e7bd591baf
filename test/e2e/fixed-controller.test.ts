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
const LATE_INSTANCE = "ins-fx000005";
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
  instances: [...INSTANCES, LATE_INSTANCE].map((instanceId) => ({
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
    expect(nec?.status?.message).toContain(
      `${NBIG} is in zone ${ZONE}: no pod subnet of that zone can hold its ENI IP quota of 399`,
    );
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

  test("a pass that dies right after a cloud call is finished by the next leader: nothing made twice, nothing leaked", async () => {
    // the cloud call succeeds, then the controller "dies" before writing its answer down
    const dying = (action: "assignIps" | "createEni"): VpcApi =>
      new Proxy(vpc.api, {
        get(target, prop, receiver) {
          const real = Reflect.get(target, prop, receiver);
          if (prop !== action) return typeof real === "function" ? real.bind(target) : real;
          return async (...args: unknown[]) => {
            await (real as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            throw new Error(`killed after ${action}`);
          };
        },
      });
    await addPod("j-0", NA);
    await expect(passWith(dying("assignIps")).run()).rejects.toThrow("killed after assignIps");
    const journaled = await claim("j-0");
    expect(journaled?.status?.pending?.action).toBe("assign");
    const ip = journaled?.status?.pending?.address as string;
    await pass.run();
    const done = await claim("j-0");
    expect([done?.status?.phase, done?.status?.address, done?.status?.pending]).toEqual(["Bound", ip, undefined]);
    expect((await cloudEni(NA)).secondaryIps.filter((x) => x === ip)).toEqual([ip]);

    // a node's ENI: created, then the controller dies before recording it
    const late = `fx-${RUN}-late`;
    NODES.push(late);
    await kubeCall(admin(), "POST", "/api/v1/nodes", {
      body: { metadata: { name: late, labels: { [INSTANCE_ID_LABEL]: LATE_INSTANCE, [SUITE_LABEL]: RUN } } },
    });
    // a node's ENI failing holds nothing else up: the pass goes on, the journal keeps it
    await addPod("j-1", NA, { [DELETE_POLICY_ANNOTATION]: "Immediate" });
    await passWith(dying("createEni")).run();
    expect((await nodeEni(late))?.status?.pending?.action).toBe("create-eni");
    expect((await claim("j-1"))?.status?.phase).toBe("Bound");
    await deletePod("j-1"); // its address back: node a's ENI has room for the suites below
    await pass.run();
    const made = await vpc.api.findEnis({ tags: { "vpccni.io/node": late } });
    expect(made.length).toBe(1);
    expect((await nodeEni(late))?.status?.eniId).toBe(made[0]?.id);
  });

  test("two controllers racing on the same pods never hand out one address", async () => {
    const names = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    for (const [i, n] of names.entries()) await addPod(n, i % 2 ? NA : NC);
    const rivals = [passWith(vpc.api), passWith(vpc.api)];
    await Promise.allSettled(rivals.map((r) => r.run()));
    for (let i = 0; i < 3; i++) await Promise.allSettled(rivals.map((r) => r.run()));
    await pass.run();
    const bound = await Promise.all(names.map(claim));
    const addresses = bound.map((c) => c?.status?.address);
    expect(bound.every((c) => c?.status?.phase === "Bound")).toBe(true);
    expect(new Set(addresses).size).toBe(names.length);
    // the cloud holds exactly the addresses the objects say, each once
    const cloud = await cloudAddresses();
    const all = Object.values(cloud).flat();
    expect(all.length).toBe(new Set(all).size);
    const vips = (await get<{ items: Address[] }>("/apis/vpccni.io/v1alpha1/vpcips"))?.items ?? [];
    const ours = vips.filter((v) => v.spec.claim.namespace === NS);
    expect(ours.map((v) => v.spec.address).sort()).toEqual([...all].sort());
  });

  test("with 20% of cloud calls failing, the passes converge: every pod bound, the cloud equal to the objects", async () => {
    const injected = () =>
      Object.values(vpc.emu.admin.stats()).reduce((n, byCode) => n + (byCode.InternalError ?? 0), 0);
    const before = injected();
    // 20% of every call; half of the assigns take effect and then answer an error (the replay's case)
    vpc.emu.admin.setFaults({
      "*": { errorRate: 0.2, errorCode: "InternalError", errorPhase: "either" },
      AssignPrivateIpAddresses: { errorRate: 0.5, errorCode: "InternalError", errorPhase: "after" },
    });
    try {
      const names = Array.from({ length: 10 }, (_, i) => `flaky-${i}`);
      for (const [i, n] of names.entries())
        await addPod(n, i % 2 ? NA : NC, { [DELETE_POLICY_ANNOTATION]: "Immediate" });
      await deletePod("race-0");
      await deletePod("race-1");
      for (let i = 0; i < 20; i++) {
        await pass.run().catch(() => {}); // a pass may fail; the next carries on
        const phases = await Promise.all(names.map(async (n) => (await claim(n))?.status?.phase));
        if (phases.every((p) => p === "Bound") && !(await claim("race-0"))?.status?.node) break;
      }
    } finally {
      vpc.emu.admin.setFaults({});
    }
    expect(injected() - before, JSON.stringify(vpc.emu.admin.stats())).toBeGreaterThan(0);
    await pass.run();
    const vips = (await get<{ items: Address[] }>("/apis/vpccni.io/v1alpha1/vpcips"))?.items ?? [];
    const ours = vips.filter((v) => v.spec.claim.namespace === NS);
    const attached = ours.filter((v) => v.status?.phase === "Attached").map((v) => v.spec.address);
    const all = Object.values(await cloudAddresses()).flat();
    expect(all.length).toBe(new Set(all).size);
    expect([...attached].sort()).toEqual([...all].sort());
    for (let i = 0; i < 10; i++) expect((await claim(`flaky-${i}`))?.status?.phase).toBe("Bound");
    expect(ours.every((v) => v.status?.pending === undefined)).toBe(true);
  });

  test("a task the cloud runs and then undoes (FAILED) is tried again under a new token: the pods get their addresses", async () => {
    const names = ["undone-0"]; // the node's ENI has room for one more
    try {
      vpc.emu.admin.setFaults({ AssignPrivateIpAddresses: { taskFailRate: 1 } });
      try {
        for (const n of names) await addPod(n, NC, { [DELETE_POLICY_ANNOTATION]: "Immediate" });
        await pass.run().catch(() => {}); // the assign's task fails
        expect((await claim("undone-0"))?.status?.phase).not.toBe("Bound");
      } finally {
        vpc.emu.admin.setFaults({});
      }
      // the same token would replay the failed task for ever: the journal entry carries a new one
      for (let i = 0; i < 5; i++) {
        await pass.run().catch(() => {});
        if ((await Promise.all(names.map(claim))).every((c) => c?.status?.phase === "Bound")) break;
      }
      const claims = await Promise.all(names.map(claim));
      expect(
        claims.map((c) => [c?.status?.phase, c?.status?.pending]),
        JSON.stringify(claims.map((c) => c?.status)),
      ).toEqual([["Bound", undefined]]);
      const all = Object.values(await cloudAddresses()).flat();
      for (const c of claims) expect(all).toContain(c?.status?.address as string);
    } finally {
      for (const n of names) await deletePod(n);
      await pass.run();
    }
  });

  test("a StatefulSet's claims are owned by it (deleted with it: cascade); a claim deleted so releases its address", async () => {
    const sts = await kubeCall(admin(), "POST", `/apis/apps/v1/namespaces/${NS}/statefulsets`, {
      body: {
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          replicas: 1,
          selector: { matchLabels: { app: "db" } },
          template: {
            metadata: { labels: { app: "db" } },
            spec: { containers: [{ name: "c", image: "x.invalid/y" }] },
          },
        },
      },
    });
    const owner = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      name: "db",
      uid: sts.json.metadata.uid,
      controller: true,
    };
    await kubeCall(admin(), "POST", `/api/v1/namespaces/${NS}/pods`, {
      body: {
        metadata: { name: "db-0", ownerReferences: [owner] },
        spec: { nodeName: NA, containers: [{ name: "c", image: "x.invalid/y" }] },
      },
    });
    await pass.run();
    const c = await claim("db-0");
    expect(c?.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid])).toEqual([
      ["StatefulSet", "db", owner.uid],
    ]);
    const ip = c?.status?.address as string;
    // what the garbage collector does once the StatefulSet is gone: pods and claims deleted
    await deletePod("db-0");
    await kubeCall(admin(), "DELETE", `/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims/db-0`);
    await pass.run();
    expect(await claim("db-0")).toBeNull();
    expect(Object.values(await cloudAddresses()).flat()).not.toContain(ip);
  });

  test("a deleted node: its ENI is detached and deleted; kept addresses stay reserved for their pods' return", async () => {
    await addPod("keep-0", NC, { [DELETE_POLICY_ANNOTATION]: "Never" });
    await pass.run();
    const kept = (await claim("keep-0"))?.status?.address as string;
    const eniId = (await nodeEni(NC))?.status?.eniId as string;
    // the node goes, and its pods with it
    const onNode = await get<{ items: k8s.V1Pod[] }>(`/api/v1/namespaces/${NS}/pods?fieldSelector=spec.nodeName=${NC}`);
    for (const p of onNode?.items ?? []) await deletePod(p.metadata?.name as string);
    await kubeCall(admin(), "DELETE", `/api/v1/nodes/${NC}`);
    await pass.run();
    expect(await vpc.api.getEni(eniId)).toBeUndefined();
    expect(await nodeEni(NC)).toBeNull();
    expect(await necOf(NC)).toBeNull();
    const parked = await vip(kept);
    expect(parked?.status?.phase).toBe("Reserved");
    expect((await claim("keep-0"))?.status?.phase).toBe("Kept");
    // back on a node of the same subnet (with room on its ENI): the same address, assigned there
    for (let i = 1; i < 10; i += 2) await deletePod(`flaky-${i}`);
    await addPod("keep-0", NA);
    await pass.run();
    const back = await claim("keep-0");
    expect([back?.status?.phase, back?.status?.node, back?.status?.address]).toEqual(["Bound", NA, kept]);
    expect((await cloudEni(NA)).secondaryIps).toContain(kept);
  });

  test("switched off (spec.enabled: false): nothing new, kept addresses released, each node's ENI given back once its pods are gone", async () => {
    await addPod("gone-0", NA, { [DELETE_POLICY_ANNOTATION]: "Never" });
    await pass.run();
    const keptIp = (await claim("gone-0"))?.status?.address as string;
    await deletePod("gone-0");
    await pass.run();
    expect((await claim("gone-0"))?.status?.phase).toBe("Kept");
    const running = (await claim("keep-0"))?.status?.address as string;
    settings.enabled = false;
    try {
      await pass.run();
      // the kept address went back at once; the running pod keeps its own, and its node its ENI
      expect(await claim("gone-0")).toBeNull();
      expect(await vip(keptIp)).toBeNull();
      expect((await cloudEni(NA)).secondaryIps).toContain(running);
      expect((await cloudEni(NA)).secondaryIps).not.toContain(keptIp);
      // nodes without vpccni pods gave their ENI back: no VpcENI, no NodeENIConfig, no label
      for (const node of [NB, NBIG]) {
        expect(await nodeEni(node)).toBeNull();
        expect(await necOf(node)).toBeNull();
        const labels = (await get<k8s.V1Node>(`/api/v1/nodes/${node}`))?.metadata?.labels ?? {};
        expect(labels[ENI_SUBNET_LABEL]).toBeUndefined();
      }
      // a new pod gets nothing (its agent refuses it with CNI error 104)
      await addPod("new-0", NA);
      await pass.run();
      expect(await claim("new-0")).toBeNull();
      // the last pods go: the last ENI goes, and the cloud holds nothing of the suite's
      const left = await get<{ items: k8s.V1Pod[] }>(`/api/v1/namespaces/${NS}/pods`);
      for (const p of left?.items ?? []) await deletePod(p.metadata?.name as string);
      await pass.run();
      const claims = await get<{ items: Claim[] }>(`/apis/vpccni.io/v1alpha1/namespaces/${NS}/vpcipclaims`);
      expect(claims?.items ?? []).toEqual([]);
      const enis = await get<{ items: NodeEni[] }>("/apis/vpccni.io/v1alpha1/vpcenis");
      expect((enis?.items ?? []).filter((e) => NODES.includes(e.spec.node))).toEqual([]);
      for (const instance of [...INSTANCES, LATE_INSTANCE])
        expect((await vpc.api.listEnis(instance)).filter((e) => !e.primary)).toEqual([]);
      const vips = await get<{ items: Address[] }>("/apis/vpccni.io/v1alpha1/vpcips");
      expect((vips?.items ?? []).filter((v) => v.spec.claim.namespace === NS)).toEqual([]);
    } finally {
      settings.enabled = true;
    }
  });
});
