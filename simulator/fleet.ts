// `vpccni simulate --fleet`: N nodes, each the real pool engine, against one account whose API
// limits every node spends from. Discrete-event on virtual time: nothing sleeps, and a seed
// replays the same run. Each decision is the agent's call sequence: the mutating call, then
// DescribeVpcTaskResult when its task is expected done (runtime/cloud/waits.ts), each call
// taking one account token or answering RequestLimitExceeded, which the node's retry strategy
// handles (fleet-retry.ts); a call that gives up fails the decision as "throttled" and the
// engine backs the decision off (apply-result.ts). The scenarios (fleet-scenario.ts): a
// scale-out of new nodes, a rolling restart of running ones, a day of pods following a curve.
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
  release,
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
import {
  type Diurnal,
  expMs,
  type FleetScenario,
  type NodeCurve,
  nodeCurve,
  podsWanted,
  type RollingRestart,
  Rollout,
} from "./fleet-scenario.ts";
import { reconciled, warmState } from "./fleet-warm.ts";

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

export type { Diurnal, FleetScenario, RollingRestart, ScaleOut } from "./fleet-scenario.ts";
const ENI_READ = "DescribeNetworkInterfaces";
const SUBNET_READ = "DescribeSubnets";
/** Warm nodes come up this long before the scenario starts, so that their timers have settled. */
export const WARM_MS = 3600_000;

export interface FleetOptions {
  scenario: FleetScenario;
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
  /** Stop here even if pods still wait, ms of virtual time (default 6 h after the scenario's own span). */
  horizonMs?: number;
  /** Check invariants after every event (tests): no IP given twice, no node above maxBindable. */
  check?: boolean;
}

interface Op {
  node: number;
  decision: Decision | null; // null: the agent's start-up reads (its limits; after a restart its ENIs and subnets too)
  steps: string[];
  step: number;
  failures: number;
  /** The next attempt already waited for its budget (the node's, or the coordinator's slot). */
  paced?: boolean;
  /** A restarted agent: it restores its saved pool instead of starting an empty one. */
  restart?: boolean;
}

type Event =
  | { t: number; seq: number; kind: "join" | "pod" | "wake" | "stop" | "start" | "churn" | "tick"; node: number }
  | { t: number; seq: number; kind: "call"; op: Op }
  | { t: number; seq: number; kind: "done"; op: Op; result: OperationResult };

/** A pod: when it asked for its IP and, where pods go, when it goes. */
interface Pod {
  key: string;
  since: number;
  until: number;
}

interface FleetNode {
  state: PoolState | null;
  waiting: Pod[];
  podsAsked: number;
  wakeAt: number | null;
  budget: WaitingBucket | null;
  retryTokens: number;
  /** The agent runs and has its pool: pods get IPs and plan() runs. */
  up: boolean;
  /** Pods with an IP, kept only where pods go (rolling restart, diurnal). */
  live: Pod[];
  /** Pods scheduled that have not asked yet (diurnal). */
  arriving: number;
  /** Pods deleted while the agent was down: the kubelet's DEL gets through once it is up. */
  gone: string[];
  stoppedAt: number;
  curve: NodeCurve | null;
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
  const maxBindable = limitsOf({ settings: opts.settings, quota: opts.quota }).maxBindable;
  // Scale-out starts from nothing at 0; the others from warm nodes at WARM_MS.
  const origin = sc.kind === "scale-out" ? 0 : WARM_MS;
  const horizon = origin + (opts.horizonMs ?? 6 * 3600_000 + spanMs(sc));
  const metrics = new FleetMetrics(sc.nodes, sc.kind === "scale-out" ? sc.nodes * sc.podsPerNode : Infinity);
  const rollout = sc.kind === "rolling-restart" ? new Rollout(sc.nodes, sc.maxUnavailable, sc.pauseMs) : null;
  const heap = new Heap<Event>();
  let seq = 0;
  let nextIp = 0;
  let nextEni = 0;
  // IP -> the pod holding it; an IP a deleted pod gave back may go to the next pod.
  const given = opts.check ? new Map<string, string>() : null;
  const nodes: FleetNode[] = [];
  const subnets = Object.fromEntries(opts.settings.subnets.map((id) => [id, 1_000_000]));
  const push = (t: number, kind: "pod" | "stop" | "start" | "churn" | "tick", node: number) =>
    heap.push({ t, seq: seq++, kind, node });
  const newBudget = () =>
    strategy.nodeBudget ? new WaitingBucket(strategy.nodeBudget.perSecond, strategy.nodeBudget.burst) : null;

  const attempt = (op: Op, t: number) => heap.push({ t, seq: seq++, kind: "call", op });
  /** When an attempt due at `t` may go: the agent takes its budget as the attempt starts, retries too. */
  const pacedAt = (n: FleetNode, action: string, t: number): number => {
    if (n.budget !== null && MUTATING_ACTIONS.has(action)) return n.budget.reserve(t);
    return slots.get(action)?.reserve(t) ?? t;
  };
  const stepsOf = (d: Decision) => callsOf(d).flatMap((a) => (pollTasks ? [a, TASK_POLL] : [a]));
  const hold = (ip: string, key: string, node: number) => {
    if (given === null) return;
    const holder = given.get(ip);
    if (holder !== undefined)
      throw new Error(`fleet invariant: IP ${ip} given twice (node ${node}, pods ${holder} and ${key})`);
    given.set(ip, key);
  };

  const serve = (i: number, n: FleetNode, t: number) => {
    if (n.state === null || !n.up) return;
    while (n.waiting.length > 0) {
      const w = n.waiting[0] as Pod;
      const r = allocate(n.state, w.key, t, allocRng);
      n.state = r.state;
      if (!r.ok) return;
      n.waiting.shift();
      hold(r.ip, w.key, i);
      if (sc.kind !== "scale-out") n.live.push(w);
      metrics.served(i, t - origin, t - w.since);
    }
  };

  const settle = (i: number, n: FleetNode, t: number) => {
    if (n.state === null || !n.up) return;
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
    metrics.idle(i, s.idle, t - origin);
  };

  /** CNI DEL of a pod with an IP: its IP goes back to the pool (at once, or once the agent is up). */
  const unwire = (n: FleetNode, key: string, t: number) => {
    if (!n.up) {
      n.gone.push(key);
      return;
    }
    const r = release(n.state as PoolState, key, t);
    n.state = r.state;
    if (given !== null && r.released !== null) given.delete(r.released.ip);
  };
  /** Deletes the node's live pod at `index` (swap-remove: order does not matter). */
  const deletePod = (n: FleetNode, index: number, t: number) => {
    const p = n.live[index] as Pod;
    n.live[index] = n.live[n.live.length - 1] as Pod;
    n.live.pop();
    unwire(n, p.key, t);
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

  const newNode = (): FleetNode => ({
    state: null,
    waiting: [],
    podsAsked: 0,
    wakeAt: null,
    budget: newBudget(),
    retryTokens: strategy.retryQuota?.capacity ?? 0,
    up: false,
    live: [],
    arriving: 0,
    gone: [],
    stoppedAt: 0,
    curve: null,
  });
  const podKey = (i: number, n: FleetNode) => `fleet/pod-${i}-${n.podsAsked++}/eth0`;

  if (sc.kind === "scale-out") {
    for (let i = 0; i < sc.nodes; i++) {
      nodes.push(newNode());
      const joinAt = Math.floor((sc.joinOverMs * i) / Math.max(1, sc.nodes));
      heap.push({ t: joinAt, seq: seq++, kind: "join", node: i });
      for (let p = 0; p < sc.podsPerNode; p++)
        push(joinAt + sc.podDelayMs + Math.floor(rng() * sc.podSpreadMs), "pod", i);
    }
  } else {
    // Running nodes: each pool where the engine leaves it with the node's first pods.
    const life = sc.podLifeMs;
    for (let i = 0; i < sc.nodes; i++) {
      const n = newNode();
      nodes.push(n);
      n.curve = sc.kind === "diurnal" ? nodeCurve(sc, rng) : null;
      const count =
        n.curve !== null && sc.kind === "diurnal" ? podsWanted(sc, n.curve, 0, maxBindable) : sc.podsPerNode;
      const pods: Pod[] = Array.from({ length: count }, () => ({
        key: podKey(i, n),
        since: 0,
        until: origin + (life > 0 ? expMs(rng, life) : Infinity),
      }));
      const fresh = createState({ settings: opts.settings, quota: opts.quota, subnets });
      const upAt = Math.floor(rng() * Math.min(opts.settings.releaseIntervalMs, origin / 2));
      n.state = warmState(
        fresh,
        pods.map((p) => p.key),
        upAt,
        origin,
        succeed,
        allocRng,
      );
      for (const p of pods) hold((n.state.pods[p.key] as { ip: string }).ip, p.key, i);
      n.live = pods;
      n.up = true;
      settle(i, n, origin);
      if (sc.kind === "diurnal") push(origin + Math.floor(rng() * sc.tickMs), "tick", i);
      else if (life > 0 && count > 0) push(origin + expMs(rng, life / count), "churn", i);
    }
    if (rollout !== null && sc.kind === "rolling-restart")
      for (const s of rollout.begin(origin + sc.leadMs)) push(s.at, "stop", s.node);
  }

  /** The agent has read what it needs: a new pool, or after a restart its saved one reconciled. */
  const started = (op: Op, n: FleetNode, t: number) => {
    if (op.restart !== true || n.state === null) {
      n.state = createState({ settings: opts.settings, quota: opts.quota, subnets });
    } else {
      n.state = reconciled(n.state, subnets);
      metrics.restarted(t - n.stoppedAt);
    }
    n.up = true;
    for (const key of n.gone.splice(0)) unwire(n, key, t);
    settle(op.node, n, t);
    if (op.restart === true && rollout !== null) {
      const next = rollout.readyAt(t);
      if (next !== null) push(next.at, "stop", next.node);
    }
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
      metrics.call(action, t - origin, true);
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
    metrics.call(action, t - origin, false);
    const quota = strategy.retryQuota;
    if (quota !== undefined) n.retryTokens = Math.min(quota.capacity, n.retryTokens + quota.refund);
    op.failures = 0;
    op.step++;
    // A task poll comes when the task is expected done; without polls the wait is the same.
    const nextAt = t + RTT_MS + (ASYNC_MS[action] ?? 0);
    if (op.step < op.steps.length) {
      attempt(op, nextAt);
    } else if (op.decision === null) {
      started(op, n, nextAt);
    } else {
      heap.push({ t: nextAt, seq: seq++, kind: "done", op, result: succeed(op.decision) });
    }
  };

  /** A diurnal node's controller: pods past their lifetime go, then the count follows the curve. */
  const tick = (i: number, n: FleetNode, t: number) => {
    const d = sc as Diurnal;
    const before = n.live.length;
    for (let k = n.live.length - 1; k >= 0; k--) if ((n.live[k] as Pod).until <= t) deletePod(n, k, t);
    const want = podsWanted(d, n.curve as NodeCurve, t - origin, maxBindable);
    let have = n.live.length + n.waiting.length + n.arriving;
    while (have > want && n.live.length > 0) {
      deletePod(n, Math.floor(rng() * n.live.length), t);
      have--;
    }
    for (; have < want; have++) {
      n.arriving++;
      push(t + Math.floor(rng() * d.tickMs), "pod", i);
    }
    // New pods plan on arrival; only a deletion changes the pool now.
    if (n.live.length < before) settle(i, n, t);
    if (t + d.tickMs < origin + d.dayMs) push(t + d.tickMs, "tick", i);
  };

  /** Rolling restart: a pod goes (its workload replaces it a few seconds later, on the same node). */
  const churn = (i: number, n: FleetNode, t: number) => {
    const r = sc as RollingRestart;
    if (rollout?.finishedAt != null) return;
    if (n.live.length > 0) deletePod(n, Math.floor(rng() * n.live.length), t);
    push(t + Math.floor(rng() * 5_000), "pod", i);
    settle(i, n, t);
    push(t + expMs(rng, r.podLifeMs / r.podsPerNode), "churn", i);
  };

  /** Past this (ms, absolute) and with no pod waiting, the scenario is over. */
  const quietAfter = (): number | null => {
    if (sc.kind === "scale-out") return metrics.allServed() ? 0 : null;
    if (metrics.waitingPods() > 0) return null;
    if (sc.kind === "diurnal") return origin + sc.dayMs;
    return rollout?.finishedAt ?? null;
  };

  for (;;) {
    const e = heap.pop();
    if (e === undefined || e.t > horizon) break;
    const quiet = quietAfter();
    if (quiet !== null && e.t > Math.max(quiet, origin + metrics.lastServedAt()) + 60_000) break;
    switch (e.kind) {
      case "join":
        attempt({ node: e.node, decision: null, steps: [LIMIT_READ], step: 0, failures: 0 }, e.t);
        break;
      case "pod": {
        const n = nodes[e.node] as FleetNode;
        const life = sc.kind === "scale-out" ? 0 : sc.podLifeMs;
        if (sc.kind === "diurnal") n.arriving--;
        n.waiting.push({ key: podKey(e.node, n), since: e.t, until: life > 0 ? e.t + expMs(rng, life) : Infinity });
        metrics.asked(e.node, e.t - origin);
        settle(e.node, n, e.t);
        break;
      }
      case "wake": {
        const n = nodes[e.node] as FleetNode;
        if (n.wakeAt === e.t) n.wakeAt = null;
        settle(e.node, n, e.t);
        break;
      }
      case "stop": {
        // SIGTERM: the agent stops planning and answering the CNI; its calls in flight finish.
        const n = nodes[e.node] as FleetNode;
        n.up = false;
        n.stoppedAt = e.t;
        push(e.t + (sc as RollingRestart).downMs, "start", e.node);
        break;
      }
      case "start": {
        // The new agent: an empty in-memory budget, then the agent's start-up reads.
        const n = nodes[e.node] as FleetNode;
        n.budget = newBudget();
        n.retryTokens = strategy.retryQuota?.capacity ?? 0;
        const steps = [LIMIT_READ, ENI_READ, SUBNET_READ];
        attempt({ node: e.node, decision: null, steps, step: 0, failures: 0, restart: true }, e.t);
        break;
      }
      case "churn":
        churn(e.node, nodes[e.node] as FleetNode, e.t);
        break;
      case "tick":
        tick(e.node, nodes[e.node] as FleetNode, e.t);
        break;
      case "call":
        call(e.op, e.t);
        break;
      case "done": {
        // Applied even while the agent is down: its graceful stop waits for the answer.
        const n = nodes[e.op.node] as FleetNode;
        const d = e.op.decision as Decision;
        n.state = applyResult(n.state as PoolState, d.id, e.result, e.t, { rng: jitterRng });
        settle(e.op.node, n, e.t);
        break;
      }
    }
  }
  return metrics.report({
    strategy: opts.strategy,
    seed: opts.seed,
    scenario: sc,
    maxBindable,
    endS: sc.kind === "rolling-restart" && rollout?.finishedAt != null ? (rollout.finishedAt - origin) / 1000 : null,
  });
}

/** How long the scenario itself runs at most, beyond which the horizon counts, ms. */
function spanMs(sc: FleetScenario): number {
  if (sc.kind === "diurnal") return sc.dayMs;
  if (sc.kind === "rolling-restart")
    return sc.leadMs + Math.ceil(sc.nodes / sc.maxUnavailable) * (sc.downMs + sc.pauseMs + 120_000);
  return 0;
}
