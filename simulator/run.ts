// Replays a pod churn trace through the pool engine, one engine state per node, against the
// simulated cloud. Discrete-event: trace events, operation completions and engine wake-ups are
// processed in time order; nothing sleeps, so a day of churn takes well under a second.
import {
  allocate,
  applyResult,
  createState,
  type Decision,
  limitsOf,
  nextWakeAt,
  type OperationResult,
  plan,
  type PoolSettings,
  type PoolState,
  release,
  seededRng,
  setSubnets,
  summary,
} from "../runtime/pool/index.ts";
import { CloudModel, type LatencyProfile } from "./cloud-model.ts";
import { Heap } from "./heap.ts";
import { Metrics, type Sample } from "./metrics.ts";
import { buildReport, type SimReport } from "./report.ts";
import type { StrategyName } from "./strategies.ts";
import type { Trace } from "./trace.ts";

export interface SimOptions {
  trace: Trace;
  settings: PoolSettings;
  strategy: StrategyName;
  latency: LatencyProfile;
  seed: number;
  /** Called every few thousand events with (events done, events in the trace). */
  onProgress?: (done: number, total: number) => void;
}

export interface SimResult {
  report: SimReport;
  series: Sample[];
}

/** How often a node re-reads the subnets' free IPs (DescribeSubnets), as the agent would. */
const SUBNET_REFRESH_MS = 60_000;
/** After the last trace event the run goes on this long, so that releases are counted. */
const TAIL_MS = 30 * 60_000;

type Pending =
  | { t: number; seq: number; kind: "done"; node: string; decision: Decision; result: OperationResult }
  | { t: number; seq: number; kind: "wake"; node: string };

interface NodeSim {
  state: PoolState;
  /** Pods that asked for an IP and got none yet, in the order they asked (podKey -> time). */
  waiting: Map<string, number>;
  wakeAt: number | null;
  subnetsReadAt: number;
}

export function simulate(opts: SimOptions): SimResult {
  const { trace, settings } = opts;
  const quota = { ...trace.header.node };
  const subnetFree = Object.fromEntries(settings.subnets.map((id) => [id, trace.header.subnetFree]));
  const cloud = new CloudModel(subnetFree, opts.latency, seededRng(opts.seed));
  const allocRng = seededRng(opts.seed ^ 0x5bd1e995);
  const jitterRng = seededRng(opts.seed ^ 0x1b873593);
  const metrics = new Metrics(trace.nodes);
  const nodes = new Map<string, NodeSim>();
  const heap = new Heap<Pending>();
  let seq = 0;

  const nodeOf = (name: string, t: number): NodeSim => {
    let n = nodes.get(name);
    if (n === undefined) {
      n = {
        state: createState({ settings, quota, subnets: Object.fromEntries(cloud.free) }),
        waiting: new Map(),
        wakeAt: null,
        subnetsReadAt: t,
      };
      nodes.set(name, n);
    }
    return n;
  };

  const serveWaiting = (n: NodeSim, t: number) => {
    for (const [key, since] of n.waiting) {
      const r = allocate(n.state, key, t, allocRng);
      n.state = r.state;
      if (!r.ok) break; // one pool: if this pod got nothing, neither will the next
      n.waiting.delete(key);
      metrics.assigned(r.ip, t - since);
    }
  };

  const afterEvent = (name: string, n: NodeSim, t: number) => {
    if (t - n.subnetsReadAt >= SUBNET_REFRESH_MS) {
      n.state = setSubnets(n.state, Object.fromEntries(cloud.free));
      n.subnetsReadAt = t;
    }
    const planned = plan(n.state, t);
    n.state = planned.state;
    for (const d of planned.decisions) {
      const { durationMs, result } = cloud.start(d);
      metrics.calls(d, result);
      heap.push({ t: t + durationMs, seq: seq++, kind: "done", node: name, decision: d, result });
    }
    const wake = nextWakeAt(n.state, t);
    if (wake !== null && (n.wakeAt === null || n.wakeAt <= t || wake < n.wakeAt)) {
      heap.push({ t: wake, seq: seq++, kind: "wake", node: name });
      n.wakeAt = wake;
    }
    metrics.observe(name, t, summary(n.state, t), limitsOf(n.state).maxBindable);
  };

  const events = trace.events;
  const end = (events.at(-1)?.t ?? 0) + TAIL_MS;
  // Every node joins at t = 0 with no ENI, and its agent fills the pool before pods arrive
  // (the DaemonSet runs before workloads are scheduled).
  for (const name of trace.nodes) afterEvent(name, nodeOf(name, 0), 0);
  let i = 0;
  for (;;) {
    const next = heap.peek();
    const e = events[i];
    if (e !== undefined && (next === undefined || e.t <= next.t)) {
      i++;
      const n = nodeOf(e.node, e.t);
      const key = `sim/${e.pod}/eth0`;
      if (e.event === "add") {
        metrics.added();
        const r = allocate(n.state, key, e.t, allocRng);
        n.state = r.state;
        if (r.ok) metrics.assigned(r.ip, 0);
        else n.waiting.set(key, e.t);
      } else {
        if (n.waiting.delete(key)) metrics.abandoned();
        const r = release(n.state, key, e.t);
        n.state = r.state;
        if (r.released !== null) metrics.freed(r.released.ip);
      }
      afterEvent(e.node, n, e.t);
      if (opts.onProgress !== undefined && i % 5000 === 0) opts.onProgress(i, events.length);
      continue;
    }
    if (next === undefined || next.t > end) break;
    heap.pop();
    const n = nodes.get(next.node) as NodeSim;
    if (next.kind === "done") {
      const d = next.decision;
      if (d.action === "delete-eni" && next.result.ok)
        cloud.deleted(d.eni, n.state.enis.find((x) => x.id === d.eni)?.ips.length ?? 0);
      n.state = applyResult(n.state, d.id, next.result, next.t, { rng: jitterRng });
      if (next.result.ok && d.action === "create-eni") metrics.eniCreated();
      if (next.result.ok && d.action === "delete-eni") metrics.eniDeleted();
    } else if (n.wakeAt === next.t) {
      n.wakeAt = null;
    }
    serveWaiting(n, next.t);
    afterEvent(next.node, n, next.t);
  }
  opts.onProgress?.(events.length, events.length);
  const limits = limitsOf({ settings, quota });
  return { report: buildReport(opts, metrics, limits, end), series: metrics.series() };
}
