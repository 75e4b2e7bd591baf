// Fleet simulator speed: a scale-out of N nodes x 50 pods against the account's API limits
// (or a rolling restart of N running nodes x 50 pods, or a day of N nodes up to 50 pods).
// Prints simulated seconds, wall time and RSS; never fails on time.
//
//   node_modules/.bin/bun bench/fleet.ts [nodes] [retry] [scenario]   (default 5000 jitter scale-out)
//
// Goal (issue 19): 5,000 nodes x 50 pods in <= 60 s of wall time and <= 2 GB RSS on the
// 2-core development machine. The last line is machine-readable:
//   fleet nodes=<n> sim_s=<wall seconds> rss_mb=<peak RSS> last_pod_s=<virtual seconds>
// (with a scenario other than scale-out the line starts "fleet scenario=<name> nodes=<n>").
import { readFileSync } from "node:fs";
import { settingsFromPolicy } from "../runtime/pool/index.ts";
import { VpcCniPolicy } from "../schema/policy.ts";
import { simulateFleet } from "../simulator/fleet.ts";
import { RETRY_STRATEGIES, type RetryStrategyName } from "../simulator/fleet-retry.ts";
import {
  diurnal,
  type FleetScenario,
  rollingRestart,
  SCENARIOS,
  type ScenarioName,
} from "../simulator/fleet-scenario.ts";

const nodes = Math.max(1, Number(process.argv[2] ?? 5000) || 5000);
const retry = (process.argv[3] ?? "jitter") as RetryStrategyName;
if (!RETRY_STRATEGIES.includes(retry)) throw new Error(`retry ${retry}: allowed ${RETRY_STRATEGIES.join(", ")}`);
const kind = (process.argv[4] ?? "scale-out") as ScenarioName;
if (!SCENARIOS.includes(kind)) throw new Error(`scenario ${kind}: allowed ${SCENARIOS.join(", ")}`);
const scenario: FleetScenario =
  kind === "rolling-restart"
    ? rollingRestart(nodes, 50)
    : kind === "diurnal"
      ? diurnal(nodes, 50)
      : { kind, nodes, podsPerNode: 50, joinOverMs: 60_000, podDelayMs: 30_000, podSpreadMs: 10_000 };
const spec = VpcCniPolicy.parse({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "bench" },
  spec: { clusterId: "cls-bench", region: "ap-guangzhou", vpcId: "vpc-bench001", subnets: ["subnet-aaaaaaaa"] },
}).spec;

const start = performance.now();
const r = simulateFleet({
  scenario,
  settings: settingsFromPolicy(spec),
  quota: { enis: 3, ipsPerEni: 20, ipsPerCall: 10 },
  strategy: retry,
  seed: 1,
});
const simS = (performance.now() - start) / 1000;
const rssMb = Math.round(peakRssBytes() / 2 ** 20);
console.log(`retry ${retry}: ${r.pods.served}/${r.pods.asked} pods served, ${r.throttled} throttled calls`);
if (kind === "scale-out")
  console.log(
    `per node p50 ${r.nodeReadyS.p50} s, p99 ${r.nodeReadyS.p99} s; idle IPs at the last pod ${r.idleIps.atLastPod}`,
  );
else
  console.log(
    `per pod wait p50 ${r.podWaitS.p50} s, p99 ${r.podWaitS.p99} s, max ${r.podWaitS.max} s; idle IPs mean ${r.idleIps.mean}, peak ${r.idleIps.peak}`,
  );
console.log(`wall ${simS.toFixed(1)} s (goal <= 60), peak RSS ${rssMb} MB (goal <= 2048)`);
console.log(
  `fleet ${kind === "scale-out" ? "" : `scenario=${kind} `}nodes=${nodes} sim_s=${simS.toFixed(1)} rss_mb=${rssMb} last_pod_s=${r.lastPodS}`,
);

/** Peak RSS: the kernel's high-water mark (the run is one synchronous loop, so no sampler fires). */
function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m !== null) return Number(m[1]) * 1024;
  } catch {}
  return process.memoryUsage.rss();
}
