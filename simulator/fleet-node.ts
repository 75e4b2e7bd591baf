// What the fleet's event loop keeps per node and per API call sequence, and the handle the
// step functions (fleet-calls.ts, fleet-scenario-events.ts) get on the running simulation, so
// that they can live apart from the loop in fleet.ts.
import type { Decision, OperationResult, PoolSettings, PoolState, Quota, Rng } from "../runtime/pool/index.ts";
import type { AccountBuckets, WaitingBucket } from "./account-buckets.ts";
import type { RetryStrategy } from "./fleet-retry.ts";
import type { FleetMetrics } from "./fleet-metrics.ts";
import type { FleetScenario, NodeCurve, Rollout } from "./fleet-scenario.ts";

export interface Op {
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

export type Event =
  | { t: number; seq: number; kind: "join" | "pod" | "wake" | "stop" | "start" | "churn" | "tick"; node: number }
  | { t: number; seq: number; kind: "call"; op: Op }
  | { t: number; seq: number; kind: "done"; op: Op; result: OperationResult };

/** A pod: when it asked for its IP and, where pods go, when it goes. */
export interface Pod {
  key: string;
  since: number;
  until: number;
}

export interface FleetNode {
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

export function newNode(budget: WaitingBucket | null, retryTokens: number): FleetNode {
  return {
    state: null,
    waiting: [],
    podsAsked: 0,
    wakeAt: null,
    budget,
    retryTokens,
    up: false,
    live: [],
    arriving: 0,
    gone: [],
    stoppedAt: 0,
    curve: null,
  };
}

/** The running simulation as the step functions see it: its state, and the loop's own steps. */
export interface FleetRun {
  sc: FleetScenario;
  settings: PoolSettings;
  quota: Quota;
  subnets: Record<string, number>;
  /** Scenario start, ms (absolute). */
  origin: number;
  maxBindable: number;
  rng: Rng;
  allocRng: Rng;
  jitterRng: Rng;
  strategy: RetryStrategy;
  account: AccountBuckets;
  metrics: FleetMetrics;
  rollout: Rollout | null;
  nodes: FleetNode[];
  push(t: number, kind: "pod" | "stop" | "start" | "churn" | "tick", node: number): void;
  attempt(op: Op, t: number): void;
  /** The decision's answer arrives at `t`. */
  done(op: Op, t: number, result: OperationResult): void;
  newBudget(): WaitingBucket | null;
  /** When an attempt due at `t` may go: the agent takes its budget as the attempt starts, retries too. */
  pacedAt(n: FleetNode, action: string, t: number): number;
  hold(ip: string, key: string, node: number): void;
  settle(i: number, n: FleetNode, t: number): void;
  deletePod(n: FleetNode, index: number, t: number): void;
  started(op: Op, n: FleetNode, t: number): void;
  succeed(d: Decision): OperationResult;
  podKey(i: number, n: FleetNode): string;
}
