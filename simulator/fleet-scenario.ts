// The three fleets `simulate --fleet` runs: a scale-out of new nodes, a rolling restart of
// every node's agent (a DaemonSet update), and a day of pods following a day curve. Each is
// data plus the few pure rules that drive its events (fleet.ts owns the event loop).
import type { Rng } from "../runtime/pool/index.ts";

export const SCENARIOS = ["scale-out", "rolling-restart", "diurnal"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

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

/** A running fleet whose agents restart one batch after another, as a DaemonSet rolls out. */
export interface RollingRestart {
  kind: "rolling-restart";
  nodes: number;
  /** Pods per node before the rollout; the pools start at the engine's steady state for them. */
  podsPerNode: number;
  /** Agents down at once (the DaemonSet's maxUnavailable). */
  maxUnavailable: number;
  /** After an agent is ready, the next one stops this much later (minReadySeconds), ms. */
  pauseMs: number;
  /** From an agent's stop to its new process reading the cloud (grace period, start), ms. */
  downMs: number;
  /** Mean pod lifetime, ms: a pod goes and its replacement comes; 0: no churn. */
  podLifeMs: number;
  /** The rollout starts this long after the scenario does (a baseline on the chart), ms. */
  leadMs: number;
}

/** A day: the pods wanted per node follow a curve from a trough to a peak and back. */
export interface Diurnal {
  kind: "diurnal";
  nodes: number;
  /** Pods per node at the peak (before the node's jitter) ... */
  podsPerNode: number;
  /** ... and at the trough. */
  troughPods: number;
  /** Each node's curve is scaled by a factor in [1 - j, 1 + j] and shifted by up to j hours. */
  nodeJitter: number;
  dayMs: number;
  /** Time of day of the trough, ms (the peak is half a day later). */
  troughAtMs: number;
  /** Mean pod lifetime, ms; pods that go are replaced while the curve wants them. */
  podLifeMs: number;
  /** A node's controller looks at the curve this often, ms. */
  tickMs: number;
}

export type FleetScenario = ScaleOut | RollingRestart | Diurnal;

/** From an agent's stop to its new process starting: SIGTERM, the old pod gone, the new one started. */
export const RESTART_DOWN_MS = 10_000;
export const POD_LIFE_MS = 45 * 60_000;

export function rollingRestart(nodes: number, podsPerNode: number, over: Partial<RollingRestart> = {}): RollingRestart {
  return {
    kind: "rolling-restart",
    nodes,
    podsPerNode,
    maxUnavailable: 1,
    pauseMs: 0,
    downMs: RESTART_DOWN_MS,
    podLifeMs: POD_LIFE_MS,
    leadMs: 60_000,
    ...over,
  };
}

export function diurnal(nodes: number, peak: number, over: Partial<Diurnal> = {}): Diurnal {
  return {
    kind: "diurnal",
    nodes,
    podsPerNode: peak,
    troughPods: Math.min(peak, 5),
    nodeJitter: 0.2,
    dayMs: 24 * 3600_000,
    troughAtMs: 4 * 3600_000,
    podLifeMs: POD_LIFE_MS,
    tickMs: 60_000,
    ...over,
  };
}

/** A node's own day curve: its scale and phase, drawn once per node. */
export interface NodeCurve {
  scale: number;
  shiftMs: number;
}

export function nodeCurve(sc: Diurnal, rng: Rng): NodeCurve {
  const j = sc.nodeJitter;
  return { scale: 1 + j * (2 * rng() - 1), shiftMs: Math.round(j * (2 * rng() - 1) * 3600_000) };
}

/**
 * Pods the node's workloads want at `t` (ms since the start of the day): the trough plus the
 * swing, raised cosine, at most `cap` (the node's allocatable IPs: the scheduler places no more).
 * No noise from minute to minute: a pod deleted and another created a minute later would be
 * churn the workloads do not make (pod lifetimes make the churn).
 */
export function podsWanted(sc: Diurnal, curve: NodeCurve, t: number, cap: number): number {
  const phase = (2 * Math.PI * (t - sc.troughAtMs - curve.shiftMs)) / sc.dayMs;
  const level = sc.troughPods + ((sc.podsPerNode - sc.troughPods) * (1 - Math.cos(phase))) / 2;
  return Math.max(0, Math.min(cap, Math.round(level * curve.scale)));
}

/** Exponentially distributed with the given mean (pod lifetimes, churn gaps). */
export function expMs(rng: Rng, mean: number): number {
  return Math.round(-Math.log(1 - rng()) * mean);
}

/**
 * A DaemonSet rolling update: `maxUnavailable` agents stop at the start; each time one is ready
 * again, the next node in order stops `pauseMs` later. Nodes restart in index order.
 */
export class Rollout {
  private next = 0;
  private ready = 0;
  finishedAt: number | null = null;

  constructor(
    private readonly nodes: number,
    private readonly maxUnavailable: number,
    private readonly pauseMs: number,
  ) {}

  /** The first batch: node and stop time. */
  begin(t: number): { node: number; at: number }[] {
    const out: { node: number; at: number }[] = [];
    while (this.next < this.nodes && out.length < this.maxUnavailable) out.push({ node: this.next++, at: t });
    return out;
  }

  /** A restarted agent is ready at `t`: the next node to stop, if any. */
  readyAt(t: number): { node: number; at: number } | null {
    this.ready++;
    if (this.ready >= this.nodes) this.finishedAt = t;
    return this.next < this.nodes ? { node: this.next++, at: t + this.pauseMs } : null;
  }
}

/** How long the scenario itself runs at most, beyond which the horizon counts, ms. */
export function spanMs(sc: FleetScenario): number {
  if (sc.kind === "diurnal") return sc.dayMs;
  if (sc.kind === "rolling-restart")
    return sc.leadMs + Math.ceil(sc.nodes / sc.maxUnavailable) * (sc.downMs + sc.pauseMs + 120_000);
  return 0;
}
