// `vpccni simulate --fleet`: N nodes, each the real pool engine, against one account whose API
// limits every node spends from. Discrete-event on virtual time: nothing sleeps, and a seed
// replays the same run. Each decision is the agent's call sequence: the mutating call, then
// DescribeVpcTaskResult when its task is expected done (runtime/cloud/waits.ts), each call
// taking one account token or answering RequestLimitExceeded, which the node's retry strategy
// handles (fleet-retry.ts); a call that gives up fails the decision as "throttled" and the
// engine backs the decision off (apply-result.ts). The scenarios (fleet-scenario.ts): a
// scale-out of new nodes, a rolling restart of running ones, a day of pods following a curve.
// This file is the event loop; one call attempt is fleet-calls.ts, the running fleets' events
// fleet-scenario-events.ts, the per-node state fleet-node.ts.
import {
  allocate,
  applyResult,
  createState,
  type Decision,
  limitsOf,
  nextWakeAt,
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
import { call, cloudAnswers, TASK_POLL } from "./fleet-calls.ts";
import { type NodeRateLimits, type RetryStrategy, retryStrategy, type RetryStrategyName } from "./fleet-retry.ts";
import { type FleetReport, FleetMetrics } from "./fleet-metrics.ts";
import { type Event, type FleetNode, type FleetRun, newNode, type Op, type Pod } from "./fleet-node.ts";
import { expMs, type FleetScenario, type RollingRestart, Rollout, spanMs } from "./fleet-scenario.ts";
import { churn, tick, warmNodes } from "./fleet-scenario-events.ts";
import { reconciled } from "./fleet-warm.ts";

export { ASYNC_MS, RTT_MS } from "./fleet-calls.ts";
export type { Diurnal, FleetScenario, RollingRestart, ScaleOut } from "./fleet-scenario.ts";
const LIMIT_READ = "DescribeNetworkInterfaceLimit";
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
  // IP -> the pod holding it; an IP a deleted pod gave back may go to the next pod.
  const given = opts.check ? new Map<string, string>() : null;
  const nodes: FleetNode[] = [];
  const subnets = Object.fromEntries(opts.settings.subnets.map((id) => [id, 1_000_000]));
  const push = (t: number, kind: "pod" | "stop" | "start" | "churn" | "tick", node: number) =>
    heap.push({ t, seq: seq++, kind, node });
  const newBudget = () =>
    strategy.nodeBudget ? new WaitingBucket(strategy.nodeBudget.perSecond, strategy.nodeBudget.burst) : null;

  const attempt = (op: Op, t: number) => heap.push({ t, seq: seq++, kind: "call", op });
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

  const succeed = cloudAnswers();
  const podKey = (i: number, n: FleetNode) => `fleet/pod-${i}-${n.podsAsked++}/eth0`;

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

  const run: FleetRun = {
    sc,
    settings: opts.settings,
    quota: opts.quota,
    subnets,
    origin,
    maxBindable,
    rng,
    allocRng,
    jitterRng,
    strategy,
    account,
    metrics,
    rollout,
    nodes,
    push,
    attempt,
    done: (op, t, result) => heap.push({ t, seq: seq++, kind: "done", op, result }),
    newBudget,
    pacedAt,
    hold,
    settle,
    deletePod,
    started,
    succeed,
    podKey,
  };

  if (sc.kind === "scale-out") {
    for (let i = 0; i < sc.nodes; i++) {
      nodes.push(newNode(newBudget(), strategy.retryQuota?.capacity ?? 0));
      const joinAt = Math.floor((sc.joinOverMs * i) / Math.max(1, sc.nodes));
      heap.push({ t: joinAt, seq: seq++, kind: "join", node: i });
      for (let p = 0; p < sc.podsPerNode; p++)
        push(joinAt + sc.podDelayMs + Math.floor(rng() * sc.podSpreadMs), "pod", i);
    }
  } else {
    warmNodes(run, sc);
  }

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
        churn(run, e.node, nodes[e.node] as FleetNode, e.t);
        break;
      case "tick":
        tick(run, e.node, nodes[e.node] as FleetNode, e.t);
        break;
      case "call":
        call(run, e.op, e.t);
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
