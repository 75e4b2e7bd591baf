// `vpccni simulate --fleet`: N nodes, each the real pool engine, against one account whose API
// limits every node spends from. Discrete-event on virtual time: nothing sleeps, and a seed
// replays the same run. Each decision is the agent's call sequence: the mutating call, then
// DescribeVpcTaskResult when its task is expected done (runtime/cloud/waits.ts), each call
// taking one account token or answering RequestLimitExceeded, which the node's retry strategy
// handles (fleet-retry.ts); a call that gives up fails the decision as "throttled" and the
// engine backs the decision off (apply-result.ts).
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
  type Quota,
  type Rng,
  seededRng,
  summary,
} from "../runtime/pool/index.ts";
import { MUTATING_ACTIONS } from "../schema/cloud-budget.ts";
import { ACCOUNT_RATE_LIMITS, AccountBuckets, WaitingBucket } from "./account-buckets.ts";
import { callsOf } from "./cloud-model.ts";
import { Heap } from "./heap.ts";
import { type NodeRateLimits, type RetryStrategy, retryStrategy, type RetryStrategyName } from "./fleet-retry.ts";
import { type FleetReport, FleetMetrics } from "./fleet-metrics.ts";

/** The emulator's default async task times (emulator/config.ts asyncMs), ms per action. */
export const ASYNC_MS: Readonly<Record<string, number>> = {
  CreateNetworkInterface: 50,
  AttachNetworkInterface: 500,
  DetachNetworkInterface: 300,
  DeleteNetworkInterface: 50,
  AssignPrivateIpAddresses: 50,
  UnassignPrivateIpAddresses: 50,
};
/** Round trip of one API call, ms (the emulator answers at once; the cloud takes tens of ms). */
export const RTT_MS = 30;
const TASK_POLL = "DescribeVpcTaskResult";
const LIMIT_READ = "DescribeNetworkInterfaceLimit";

export interface ScaleOut {
  kind: "scale-out";
  nodes: number;
  podsPerNode: number;
  /** Nodes join uniformly over this window, ms. */
  joinOverMs: number;
  /** A node's pods are scheduled this long after it joins (kubelet Ready), ms ... */
  podDelayMs: number;
  /** ... and arrive uniformly over this window. */
  podSpreadMs: number;
}

export interface FleetOptions {
  scenario: ScaleOut;
  settings: PoolSettings;
  quota: Quota;
  strategy: RetryStrategyName;
  /** The policy's spec.cloud.rateLimits, which "jitter" spends as the agent does; unset: the default. */
  nodeBudget?: NodeRateLimits;
  seed: number;
  /** Per-action account limits over the documented ones (calls/s; 0 lifts a limit). */
  rates?: Record<string, number>;
  /** Poll DescribeVpcTaskResult after every mutating call, as the agent does (default true). */
  pollTasks?: boolean;
  /** Stop here even if pods still wait, ms of virtual time (default 6 h). */
  horizonMs?: number;
  /** Check invariants after every event (tests): no IP given twice, no node above maxBindable. */
  check?: boolean;
}

interface Op {
  node: number;
  decision: Decision | null; // null: the node's start-up DescribeNetworkInterfaceLimit
  steps: string[];
  step: number;
  failures: number;
  /** The next attempt already waited for its budget (the node's, or the coordinator's slot). */
  paced?: boolean;
}

type Event =
  | { t: number; seq: number; kind: "join" | "pod" | "wake"; node: number }
  | { t: number; seq: number; kind: "call"; op: Op }
  | { t: number; seq: number; kind: "done"; op: Op; result: OperationResult };

interface FleetNode {
  state: PoolState | null;
  waiting: { key: string; since: number }[];
  podsAsked: number;
  wakeAt: number | null;
  budget: WaitingBucket | null;
  retryTokens: number;
}

export function simulateFleet(opts: FleetOptions): FleetReport {
  const sc = opts.scenario;
  const strategy: RetryStrategy = retryStrategy(opts.strategy, opts.nodeBudget);
  const account = new AccountBuckets(opts.rates);
  // The ideal coordinator: one queue per limited action, at the account's own rate and burst.
  const slots = new Map<string, WaitingBucket>();
  if (strategy.coordinated)
    for (const [action, rate] of Object.entries({ ...ACCOUNT_RATE_LIMITS, ...opts.rates }))
      if (rate > 0) slots.set(action, new WaitingBucket(rate, Math.max(1, rate)));
  const rng: Rng = seededRng(opts.seed);
  const allocRng = seededRng(opts.seed ^ 0x5bd1e995);
  const jitterRng = seededRng(opts.seed ^ 0x1b873593);
  const pollTasks = opts.pollTasks ?? true;
  const horizon = opts.horizonMs ?? 6 * 3600_000;
  const maxBindable = limitsOf({ settings: opts.settings, quota: opts.quota }).maxBindable;
  const metrics = new FleetMetrics(sc.nodes, sc.nodes * sc.podsPerNode);
  const heap = new Heap<Event>();
  let seq = 0;
  let nextIp = 0;
  let nextEni = 0;
  const given = opts.check ? new Set<string>() : null;
  const nodes: FleetNode[] = [];
  for (let i = 0; i < sc.nodes; i++) {
    nodes.push({
      state: null,
      waiting: [],
      podsAsked: 0,
      wakeAt: null,
      budget: strategy.nodeBudget ? new WaitingBucket(strategy.nodeBudget.perSecond, strategy.nodeBudget.burst) : null,
      retryTokens: strategy.retryQuota?.capacity ?? 0,
    });
    const joinAt = Math.floor((sc.joinOverMs * i) / Math.max(1, sc.nodes));
    heap.push({ t: joinAt, seq: seq++, kind: "join", node: i });
    for (let p = 0; p < sc.podsPerNode; p++) {
      const at = joinAt + sc.podDelayMs + Math.floor(rng() * sc.podSpreadMs);
      heap.push({ t: at, seq: seq++, kind: "pod", node: i });
    }
  }
  const subnets = Object.fromEntries(opts.settings.subnets.map((id) => [id, 1_000_000]));

  const attempt = (op: Op, t: number) => heap.push({ t, seq: seq++, kind: "call", op });
  /** When an attempt due at `t` may go: the agent takes its budget as the attempt starts, retries too. */
  const pacedAt = (n: FleetNode, action: string, t: number): number => {
    if (n.budget !== null && MUTATING_ACTIONS.has(action)) return n.budget.reserve(t);
    return slots.get(action)?.reserve(t) ?? t;
  };
  const stepsOf = (d: Decision) => callsOf(d).flatMap((a) => (pollTasks ? [a, TASK_POLL] : [a]));

  const serve = (i: number, n: FleetNode, t: number) => {
    if (n.state === null) return;
    while (n.waiting.length > 0) {
      const w = n.waiting[0] as { key: string; since: number };
      const r = allocate(n.state, w.key, t, allocRng);
      n.state = r.state;
      if (!r.ok) return;
      n.waiting.shift();
      if (given !== null) {
        if (given.has(r.ip)) throw new Error(`fleet invariant: IP ${r.ip} given twice (node ${i}, pod ${w.key})`);
        given.add(r.ip);
      }
      metrics.served(i, t, t - w.since);
    }
  };

  const settle = (i: number, n: FleetNode, t: number) => {
    if (n.state === null) return;
    serve(i, n, t);
    const planned = plan(n.state, t);
    n.state = planned.state;
    for (const d of planned.decisions) attempt({ node: i, decision: d, steps: stepsOf(d), step: 0, failures: 0 }, t);
    const wake = nextWakeAt(n.state, t);
    if (wake !== null && (n.wakeAt === null || n.wakeAt <= t || wake < n.wakeAt)) {
      heap.push({ t: wake, seq: seq++, kind: "wake", node: i });
      n.wakeAt = wake;
    }
    const s = summary(n.state, t);
    if (opts.check && s.bound > maxBindable)
      throw new Error(`fleet invariant: node ${i} holds ${s.bound} IPs, above maxBindable ${maxBindable}`);
    metrics.idle(i, s.idle, t);
  };

  const succeed = (d: Decision): OperationResult => {
    const ips = (k: number) =>
      Array.from({ length: k }, () => {
        const x = nextIp++;
        return `10.${(x >> 16) & 255}.${(x >> 8) & 255}.${x & 255}`;
      });
    if (d.action === "bind") return { ok: true, ips: ips(d.count) };
    if (d.action === "create-eni") return { ok: true, eni: `eni-${(nextEni++).toString(36)}`, ips: ips(d.ips) };
    return { ok: true };
  };

  const call = (op: Op, t: number) => {
    const n = nodes[op.node] as FleetNode;
    const action = op.steps[op.step] as string;
    if (op.paced !== true) {
      const at = pacedAt(n, action, t);
      if (at > t) {
        op.paced = true;
        attempt(op, at);
        return;
      }
    }
    op.paced = false;
    if (!account.take(action, t)) {
      metrics.call(action, t, true);
      op.failures++;
      const quota = strategy.retryQuota;
      const delay = strategy.delayMs(op.failures, jitterRng);
      const quotaOk = quota === undefined || n.retryTokens >= quota.cost;
      if (delay !== null && quotaOk) {
        if (quota !== undefined) n.retryTokens -= quota.cost;
        attempt(op, t + RTT_MS + delay);
        return;
      }
      if (op.decision === null) {
        op.failures = 0; // the agent restarts and reads its limits again: the pool cannot start without them
        attempt(op, t + RTT_MS + 10_000);
        return;
      }
      heap.push({ t: t + RTT_MS, seq: seq++, kind: "done", op, result: { ok: false, error: { kind: "throttled" } } });
      return;
    }
    metrics.call(action, t, false);
    const quota = strategy.retryQuota;
    if (quota !== undefined) n.retryTokens = Math.min(quota.capacity, n.retryTokens + quota.refund);
    op.failures = 0;
    op.step++;
    // A task poll comes when the task is expected done; without polls the wait is the same.
    const nextAt = t + RTT_MS + (ASYNC_MS[action] ?? 0);
    if (op.step < op.steps.length) {
      attempt(op, nextAt);
    } else if (op.decision === null) {
      n.state = createState({ settings: opts.settings, quota: opts.quota, subnets });
      settle(op.node, n, nextAt);
    } else {
      heap.push({ t: nextAt, seq: seq++, kind: "done", op, result: succeed(op.decision) });
    }
  };

  for (;;) {
    const e = heap.pop();
    if (e === undefined || e.t > horizon) break;
    if (metrics.allServed() && e.t > metrics.lastServedAt() + 60_000) break;
    switch (e.kind) {
      case "join":
        attempt({ node: e.node, decision: null, steps: [LIMIT_READ], step: 0, failures: 0 }, e.t);
        break;
      case "pod": {
        const n = nodes[e.node] as FleetNode;
        n.waiting.push({ key: `fleet/pod-${e.node}-${n.podsAsked++}/eth0`, since: e.t });
        metrics.asked(e.node, e.t);
        settle(e.node, n, e.t);
        break;
      }
      case "wake": {
        const n = nodes[e.node] as FleetNode;
        if (n.wakeAt === e.t) n.wakeAt = null;
        settle(e.node, n, e.t);
        break;
      }
      case "call":
        call(e.op, e.t);
        break;
      case "done": {
        const n = nodes[e.op.node] as FleetNode;
        const d = e.op.decision as Decision;
        n.state = applyResult(n.state as PoolState, d.id, e.result, e.t, { rng: jitterRng });
        settle(e.op.node, n, e.t);
        break;
      }
    }
  }
  return metrics.report({ strategy: opts.strategy, seed: opts.seed, scenario: sc, maxBindable });
}
