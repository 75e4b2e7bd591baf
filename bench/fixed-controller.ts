// The fixed-IP controller's throughput against the emulator: claims bound per second by its
// passes (real kube-apiserver holding the CRDs and pods, the real SDK over HTTP with TC3 against
// the emulator, every cloud call journaled in an object first). Peer, measured in the same run:
// the same cloud calls without Kubernetes (AssignPrivateIpAddresses by address, one pod each, on
// an ENI of its own), so the ratio is what the journal and the objects cost on top.
// Used by bench/fixed.ts; runs alone too: node_modules/.bin/bun bench/fixed-controller.ts [pods]
import * as k8s from "@kubernetes/client-node";
import { startEmulator } from "../emulator/index.ts";
import { CONTROLLER_RATES, TencentVpcApi } from "../runtime/cloud/index.ts";
import { FixedPass } from "../runtime/controller/fixed-pass.ts";
import type { Claim } from "../runtime/controller/fixed-state.ts";
import { FixedKubeClient } from "../runtime/kube/fixed-client.ts";
import { startCluster } from "../sandbox/apiserver.ts";
import { installFixedIpCrds } from "../sandbox/fixed-crds.ts";
import { kubeCall } from "../sandbox/kube-api.ts";
import { INSTANCE_ID_LABEL } from "../schema/names.ts";

const ZONE = "ap-guangzhou-3";
const VPC = "vpc-bench001";
const NODE_SUBNET = "subnet-nodes001";
const SG = "sg-bench001";
const SUBNET = "subnet-bench001";
const NODES = 4;
const QUOTA = 50;

export interface ControllerFigures {
  pods: number;
  claimsPerS: number;
  passes: number;
  peerAssignsPerS: number;
  ratio: number;
}

export async function controllerThroughput(pods = NODES * QUOTA): Promise<ControllerFigures> {
  const count = Math.min(pods, NODES * QUOTA);
  const instances = Array.from({ length: NODES + 1 }, (_, i) => `ins-bench${String(i).padStart(3, "0")}`);
  const cluster = await startCluster();
  // the emulator's own latency profile (async tasks take their time): both sides face it
  const emu = await startEmulator({
    log: () => {},
    config: {
      seed: 7,
      vpcs: [{ vpcId: VPC, cidrBlock: "10.2.0.0/16" }],
      subnets: [
        { subnetId: NODE_SUBNET, vpcId: VPC, cidrBlock: "10.2.0.0/24", zone: ZONE },
        { subnetId: SUBNET, vpcId: VPC, cidrBlock: "10.2.16.0/20", zone: ZONE },
      ],
      securityGroups: [SG],
      instanceTypes: { "S5.BENCH": { eniQuota: 3, ipsPerEni: QUOTA + 1 } },
      instances: instances.map((instanceId) => ({
        instanceId,
        instanceType: "S5.BENCH",
        zone: ZONE,
        subnetId: NODE_SUBNET,
      })),
    },
  });
  const api = new TencentVpcApi({
    region: emu.region,
    endpoint: `http://${emu.endpoint}`,
    credentials: { description: "emulator key", get: async () => emu.credentials },
    clusterId: "cls-bench001",
    vpcId: VPC,
    rates: CONTROLLER_RATES,
  });
  const vpc = { api, stop: () => emu.stop() };
  try {
    const admin = cluster.admin;
    await installFixedIpCrds(admin);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(admin.path);
    const kube = new FixedKubeClient(kc);
    const quiet = { info: () => {}, warn: () => {}, debug: () => {} };
    const timed = <T extends object>(target: T, into: Map<string, number>): T =>
      new Proxy(target, {
        get(t, prop, r) {
          const v = Reflect.get(t, prop, r);
          if (typeof v !== "function") return v;
          return async (...args: unknown[]) => {
            const s = performance.now();
            try {
              return await v.apply(t, args);
            } finally {
              const k = `${String(prop)}${prop === "updateStatus" || prop === "create" || prop === "list" ? `:${args[0]}` : ""}`;
              into.set(k, (into.get(k) ?? 0) + performance.now() - s);
              into.set(`#${k}`, (into.get(`#${k}`) ?? 0) + 1);
            }
          };
        },
      });
    const prof = new Map<string, number>();
    const pass = new FixedPass({
      kube: process.env.PROFILE ? timed(kube, prof) : kube,
      api: process.env.PROFILE ? timed(vpc.api, prof) : vpc.api,
      settings: () => ({
        subnets: [SUBNET],
        reclaim: { kind: "Never" },
        cascade: false,
        mode: "default",
        nodeSelector: {},
      }),
      now: Date.now,
      log: quiet,
    });
    await kubeCall(admin, "POST", "/api/v1/namespaces", { body: { metadata: { name: "bench" } } });
    for (let n = 0; n < NODES; n++)
      await kubeCall(admin, "POST", "/api/v1/nodes", {
        body: { metadata: { name: `bench-${n}`, labels: { [INSTANCE_ID_LABEL]: instances[n] } } },
      });
    await pass.run(); // node ENIs: not timed
    for (let p = 0; p < count; p++)
      await kubeCall(admin, "POST", "/api/v1/namespaces/bench/pods", {
        body: {
          metadata: { name: `db-${p}` },
          spec: { nodeName: `bench-${p % NODES}`, containers: [{ name: "c", image: "example.invalid/none" }] },
        },
      });
    const t0 = performance.now();
    let passes = 0;
    for (;;) {
      await pass.run();
      passes++;
      const claims = await kube.list<Claim>("vpcipclaims");
      if (claims.filter((c) => c.status?.phase === "Bound").length >= count) break;
      if (passes > 50) throw new Error("claims not bound after 50 passes");
    }
    const claimsPerS = count / ((performance.now() - t0) / 1000);
    if (process.env.PROFILE)
      console.log(
        [...prof]
          .sort()
          .map(([k, v]) => `${k}=${Math.round(v)}`)
          .join(" "),
      );

    // the peer: the same assigns by address, straight through the SDK, on the spare instance's ENI
    const primary = (await vpc.api.listEnis(instances[NODES]!)).find((e) => e.primary)!;
    const eni = await vpc.api.createEni({ subnetId: SUBNET, securityGroupIds: primary.securityGroupIds ?? [SG] });
    await vpc.api.attachEni(eni.id, instances[NODES]!);
    const peerCount = Math.min(count, QUOTA);
    const t1 = performance.now();
    for (let i = 0; i < peerCount; i++) await vpc.api.assignIps(eni.id, { ips: [`10.2.31.${10 + i}`] });
    const peerAssignsPerS = peerCount / ((performance.now() - t1) / 1000);
    return { pods: count, claimsPerS, passes, peerAssignsPerS, ratio: claimsPerS / peerAssignsPerS };
  } finally {
    await vpc.stop();
    await cluster.stop();
  }
}

if (import.meta.main) {
  const f = await controllerThroughput(Number(process.argv[2] ?? NODES * QUOTA) || NODES * QUOTA);
  console.log(
    `controller: ${f.pods} claims bound in ${f.passes} passes, ${f.claimsPerS.toFixed(1)} claims/s; peer (SDK assigns alone): ${f.peerAssignsPerS.toFixed(1)}/s`,
  );
  console.log(`ratio controller/peer=${f.ratio.toFixed(2)}`);
}
