// Fixed IP allocator at fleet scale, pure and in process. Prints figures and ratios only; never
// fails on time.
//
//   node_modules/.bin/bun bench/fixed.ts [cycles] [--no-controller]     (default 50000)
//
// Scenario: 6 subnets /16, 5,000 nodes bound (bindNodeEni + eniReady, quota 64), 300,000 pods
// added round-robin (60 a node). Then `cycles` times, on the full state: a random pod is deleted
// (Immediate: release) and a new pod is added on a random node with room (allocate); each call
// is timed. Goal (issue): p99 <= 1 ms, RSS <= 256 MB. Peer, measured in the same run: the cheapest
// allocator there is, a Map table with a stack of free addresses per subnet (O(1), any free
// address, no rules, no lowest-first, no decisions): the ratio is what the rules cost on top.
// RSS is process.memoryUsage().rss right after the timed calls, garbage included (no forced
// collection); the kernel's peak and the figure after a full collection and 2 s idle are printed
// beside it. The last line is machine-readable:
//   fixed p99_ms=<max of allocate and release p99> rss_mb=<RSS after the timed calls>
import { readFileSync } from "node:fs";
import {
  bindNodeEni,
  collectExpired,
  createState,
  deletePod,
  eniReady,
  type FixedState,
  indexState,
  nextWakeAt,
  podAdded,
  type Step,
} from "../runtime/fixed/index.ts";

const NODES = 5000;
const QUOTA = 64;
const PODS = 300_000;
const SUBNETS = 6;
const USABLE = 2 ** 16 - 3; // a /16 less network, gateway and broadcast
const cycles = Math.max(1000, Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 50_000));

/** Deterministic draws (the bench may use randomness; seeded so that runs compare). */
let seed = 1;
const draw = (n: number) => {
  seed = (seed * 1_103_515_245 + 12_345) >>> 0;
  return Math.floor((seed / 2 ** 32) * n);
};

/** The refusal's message names the node or the pod. */
function ok(step: Step): FixedState {
  if (!step.ok) throw new Error(`refused: ${step.refusal.code}: ${step.refusal.message}`);
  return step.state;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function stats(samples: number[]): { p50: number; p99: number; max: number } {
  const s = Float64Array.from(samples).sort();
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1]! };
}

const ms = (x: number) => (x >= 0.1 ? `${x.toFixed(2)} ms` : `${(x * 1000).toFixed(1)} us`);

// 1. The fleet. Node names are made once, as a controller has them: the bench measures the
// allocator's garbage, not its own.
const nodeNames = Array.from({ length: NODES }, (_, n) => `node-${n}`);
let t0 = performance.now();
let s = createState({
  reclaim: { kind: "Immediate" },
  subnets: Object.fromEntries(
    Array.from({ length: SUBNETS }, (_, i) => [`subnet-${i}`, { cidr: `10.${i}.0.0/16`, available: USABLE }]),
  ),
});
for (let n = 0; n < NODES; n++) {
  s = eniReady(ok(bindNodeEni(s, nodeNames[n]!, QUOTA)), nodeNames[n]!, `eni-${n}`);
}
const bindMs = performance.now() - t0;
t0 = performance.now();
const nodeOf: number[] = []; // pod number -> its node
const load = new Int32Array(NODES);
const pod = (p: number) => ({ namespace: "bench", name: `pod-${p}` });
for (let p = 0; p < PODS; p++) {
  s = ok(podAdded(s, pod(p), nodeNames[p % NODES]!, {}));
  nodeOf.push(p % NODES);
  load[p % NODES]!++;
}
const fillMs = performance.now() - t0;
console.log(
  `fleet: ${NODES} nodes in ${(bindMs / 1000).toFixed(2)} s, ${PODS} pods in ${(fillMs / 1000).toFixed(2)} s (${((fillMs / PODS) * 1000).toFixed(1)} us a pod while filling)`,
);

// 2. Allocate and release on the full state.
const live: number[] = Array.from({ length: PODS }, (_, p) => p); // pods that run, any order
function churn(release: (p: number) => void, allocate: (p: number, node: number) => void): void {
  for (let i = 0; i < cycles; i++) {
    const at = draw(live.length);
    const gone = live[at]!;
    live[at] = live[live.length - 1]!;
    live.pop();
    release(gone);
    load[nodeOf[gone]!]!--;
    let node = draw(NODES);
    while (load[node]! >= QUOTA) node = draw(NODES);
    const p = nodeOf.length;
    nodeOf.push(node);
    load[node]!++;
    live.push(p);
    allocate(p, node);
  }
}
const allocs: number[] = [];
const releases: number[] = [];
churn(
  (p) => {
    const t = performance.now();
    s = ok(deletePod(s, pod(p), 0));
    releases.push(performance.now() - t);
  },
  (p, node) => {
    const t = performance.now();
    s = ok(podAdded(s, pod(p), nodeNames[node]!, {}));
    allocs.push(performance.now() - t);
  },
);
const alloc = stats(allocs);
const release = stats(releases);
const rssMb = Math.round(process.memoryUsage.rss() / 2 ** 20);
const peakMb = Math.round(peakRssBytes() / 2 ** 20);
// What the state itself holds: the collector and the memory scavenger caught up, as in a
// controller between passes. For insight only; the goal is checked on rssMb.
Bun.gc(true);
await Bun.sleep(2000);
const settledMb = Math.round(process.memoryUsage.rss() / 2 ** 20);

// 3. What a controller pays once a pass: the index from the fields, the walk over the claims.
t0 = performance.now();
indexState(s);
const indexMs = performance.now() - t0;
t0 = performance.now();
nextWakeAt(s);
collectExpired(s, 0);
const scanMs = performance.now() - t0;

// 4. The peer, on the same churn.
const peer = peerAllocator();
const peerAllocs: number[] = [];
const peerReleases: number[] = [];
seed = 1;
live.length = 0;
live.push(...Array.from({ length: PODS }, (_, p) => p));
nodeOf.length = 0;
load.fill(0);
for (let p = 0; p < PODS; p++) {
  peer.allocate(`bench/pod-${p}`, p % SUBNETS);
  nodeOf.push(p % NODES);
  load[p % NODES]!++;
}
churn(
  (p) => {
    const t = performance.now();
    peer.release(`bench/pod-${p}`);
    peerReleases.push(performance.now() - t);
  },
  (p, node) => {
    const t = performance.now();
    peer.allocate(`bench/pod-${p}`, node % SUBNETS);
    peerAllocs.push(performance.now() - t);
  },
);
const pa = stats(peerAllocs);
const pr = stats(peerReleases);

console.log(`\n${cycles} cycles on the full state (${PODS} claims)`);
console.log(`${"".padEnd(32)} ${["p50", "p99", "max", "peer p99", "p99/peer"].map((h) => h.padStart(10)).join(" ")}`);
for (const [name, x, y] of [
  ["allocate (podAdded)", alloc, pa],
  ["release (deletePod, Immediate)", release, pr],
] as const) {
  console.log(
    `${name.padEnd(32)} ${[x.p50, x.p99, x.max, y.p99].map((v) => ms(v).padStart(10)).join(" ")} ${`${(x.p99 / y.p99).toFixed(1)}x`.padStart(10)}`,
  );
}
const p99 = Math.max(alloc.p99, release.p99);
console.log(`p99 / goal (1 ms): ${(p99 / 1).toFixed(4)}`);
console.log(
  `RSS after the timed calls ${rssMb} MB (goal <= 256), peak ${peakMb} MB; after a full collection and 2 s idle ${settledMb} MB`,
);
console.log(
  `once a pass: index rebuilt from the fields ${indexMs.toFixed(0)} ms; nextWakeAt + collectExpired walk ${scanMs.toFixed(0)} ms`,
);
console.log(`throughput against the emulator: ${await controllerFigure()}`);
console.log(`fixed p99_ms=${p99.toFixed(4)} rss_mb=${rssMb}`);

/** The peer: a Map table and, per subnet, a stack of free addresses (numbers, here). */
function peerAllocator() {
  const table = new Map<string, { subnet: number; ip: number }>();
  const free = Array.from({ length: SUBNETS }, () => Array.from({ length: USABLE }, (_, i) => USABLE - 1 - i));
  return {
    allocate(key: string, subnet: number) {
      table.set(key, { subnet, ip: free[subnet]!.pop()! });
    },
    release(key: string) {
      const a = table.get(key)!;
      table.delete(key);
      free[a.subnet]!.push(a.ip);
    },
  };
}

/**
 * The controller's claims/s against the emulator (bench/fixed-controller.ts: a real API server,
 * the SDK, the journal), after the pure figures (its RSS is not in them). Skipped with
 * --no-controller, or when the API server cannot start here (said so, never silently).
 */
async function controllerFigure(): Promise<string> {
  if (process.argv.includes("--no-controller")) return "not measured (--no-controller)";
  try {
    // loaded only now: its modules (client-node, the emulator) are not the allocator's memory
    const { controllerThroughput } = await import("./fixed-controller.ts");
    const f = await controllerThroughput();
    return `${f.claimsPerS.toFixed(1)} claims/s (${f.pods} claims, ${f.passes} passes); peer, the same cloud calls alone one per pod: ${f.peerAssignsPerS.toFixed(1)}/s; ratio controller/peer=${f.ratio.toFixed(2)}`;
  } catch (e) {
    return `not measured: ${(e as Error).message.split("\n")[0]}`;
  }
}

/** Peak RSS: the kernel's high-water mark (the run is one synchronous loop, so no sampler fires). */
function peakRssBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m !== null) return Number(m[1]) * 1024;
  } catch {}
  return process.memoryUsage.rss();
}
