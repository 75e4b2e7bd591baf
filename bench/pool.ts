// Pool engine and simulator figures. Prints figures and ratios only; never fails on time.
//
//   node_modules/.bin/bun bench/pool.ts [budget-ms-per-case]     (default 200, max 2000)
//
// 1. plan() and allocate()+release() throughput as pods per node and ENIs grow: each case is a
//    node filled to 80 % of maxBindable; a cycle deletes one pod, adds one, and plans.
// 2. API calls / lower bound (LB, see docs/pool.md) on the three shipped traces (typical
//    latency, seed 1).
// 3. vpccni vs AWS-style warm targets (WARM_IP_TARGET = prebind.min, MINIMUM_IP_TARGET = 0).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { VpcCniPolicy } from "../schema/policy.ts";
import {
  allocate,
  applyResult,
  createState,
  plan,
  release,
  seededRng,
  type Decision,
  type OperationResult,
  type PoolState,
} from "../runtime/pool/index.ts";
import { LATENCY_PROFILES } from "../simulator/cloud-model.ts";
import { simulate } from "../simulator/run.ts";
import { awsSettings, vpccniSettings } from "../simulator/strategies.ts";
import { parseTrace } from "../simulator/trace.ts";

const budget = Math.min(2000, Math.max(20, Number(process.argv[2] ?? 200) || 200));
const SUBNET = "subnet-aaaaaaaa";
let nextIp = 0;

function grant(d: Decision): OperationResult {
  const fresh = (n: number) =>
    Array.from({ length: n }, () => `10.${(++nextIp >> 16) & 255}.${(nextIp >> 8) & 255}.${nextIp & 255}`);
  if (d.action === "bind") return { ok: true, ips: fresh(d.count) };
  if (d.action === "create-eni")
    return { ok: true, eni: `eni-${(++nextIp).toString(36).padStart(8, "0")}`, ips: fresh(d.ips) };
  return { ok: true };
}

/** Plans and grants everything until the node is stable. */
function settle(s: PoolState, now: number): PoolState {
  for (let i = 0; i < 1000; i++) {
    const p = plan(s, now);
    s = p.state;
    if (s.inflight.length === 0) return s;
    for (const op of s.inflight) s = applyResult(s, op.decision.id, grant(op.decision), now);
  }
  return s;
}

function rate(fn: () => void): number {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budget) {
    fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

function engineCase(enis: number, ipsPerEni: number): string {
  const rng = seededRng(1);
  const pods = Math.floor(enis * ipsPerEni * 0.8);
  let s = createState({
    settings: { minPrebind: 5, maxPrebind: 5, releaseIntervalMs: 120_000, cooldownMs: 0, subnets: [SUBNET], floor: 0 },
    quota: { enis, ipsPerEni, ipsPerCall: 10 },
    subnets: { [SUBNET]: 1_000_000 },
  });
  let now = 0;
  for (let i = 0; i < pods; i++) {
    let r = allocate(s, `bench/p${i}/eth0`, now, rng);
    if (!r.ok) r = allocate(settle(r.state, now), `bench/p${i}/eth0`, now, rng);
    s = r.state;
  }
  s = settle(s, now);
  let next = pods;
  let oldest = 0;
  const cycle = () => {
    now += 1000;
    s = release(s, `bench/p${oldest++}/eth0`, now).state;
    s = allocate(s, `bench/p${next++}/eth0`, now, rng).state;
  };
  const allocs = rate(cycle);
  const plans = rate(() => {
    cycle();
    const p = plan(s, now);
    s = p.state;
    for (const op of s.inflight) s = applyResult(s, op.decision.id, grant(op.decision), now);
  });
  return `${String(enis).padStart(4)} x ${String(ipsPerEni).padEnd(3)} ${String(pods).padStart(6)} pods   ${fmt(allocs).padStart(10)} alloc+release/s   ${fmt(plans).padStart(10)} plan/s`;
}

function fmt(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}

console.log(`pool engine throughput (budget ${budget} ms per case; ENIs x IPs per ENI, 80 % full)`);
for (const [e, i] of [
  [1, 10],
  [3, 20],
  [8, 30],
  [15, 50],
  [32, 100],
] as const)
  console.log(engineCase(e, i));

const spec = VpcCniPolicy.parse({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "bench" },
  spec: { clusterId: "cls-bench", region: "ap-guangzhou", vpcId: "vpc-bench001", subnets: [SUBNET, "subnet-bbbbbbbb"] },
}).spec;

console.log("\nshipped traces (latency typical, seed 1): vpccni (prebind 5/5) vs AWS-style (WARM_IP_TARGET 5)");
console.log(
  `${"trace".padEnd(9)} ${"calls".padStart(7)} ${"LB".padStart(6)} ${"calls/LB".padStart(9)} | ${"aws calls".padStart(9)} ${"calls/LB".padStart(9)} | ${"aws/vpccni calls".padStart(16)} ${"idle mean v/a".padStart(14)} ${"waited v/a".padStart(11)} ${"ms".padStart(6)}`,
);
for (const name of ["steady", "burst", "diurnal"]) {
  const trace = parseTrace(readFileSync(join(import.meta.dir, "../examples/traces", `${name}.jsonl`), "utf8"), name);
  const start = performance.now();
  const latency = LATENCY_PROFILES.typical as (typeof LATENCY_PROFILES)[string];
  const v = simulate({ trace, settings: vpccniSettings(spec), strategy: "vpccni", latency, seed: 1 }).report;
  const a = simulate({
    trace,
    settings: awsSettings(spec, { warmIpTarget: spec.prebind.min, minimumIpTarget: 0 }),
    strategy: "aws",
    latency,
    seed: 1,
  }).report;
  const ms = performance.now() - start;
  console.log(
    `${name.padEnd(9)} ${String(v.apiCalls.total).padStart(7)} ${String(v.lowerBound.apiCalls).padStart(6)} ${`${v.lowerBound.ratio}x`.padStart(9)} | ${String(a.apiCalls.total).padStart(9)} ${`${a.lowerBound.ratio}x`.padStart(9)} | ${`${(a.apiCalls.total / Math.max(1, v.apiCalls.total)).toFixed(2)}x`.padStart(16)} ${`${v.idleIps.mean}/${a.idleIps.mean}`.padStart(14)} ${`${v.pods.waited}/${a.pods.waited}`.padStart(11)} ${ms.toFixed(0).padStart(6)}`,
  );
}
