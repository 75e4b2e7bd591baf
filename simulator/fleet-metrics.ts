// What `simulate --fleet` measures: per node, when its pods got IPs; per action and second,
// the calls the account accepted and refused; the idle IPs the fleet holds.
import type { FleetScenario } from "./fleet-scenario.ts";
import { percentile } from "./report.ts";

export const FLEET_REPORT_VERSION = "vpccni-fleet-report/1";

export interface FleetReport {
  version: typeof FLEET_REPORT_VERSION;
  strategy: string;
  seed: number;
  scenario: FleetScenario;
  maxBindable: number;
  pods: { asked: number; served: number; unserved: number };
  /** Seconds from a node's first pod to its last pod with an IP, over nodes. */
  nodeReadyS: { p50: number; p99: number; max: number };
  /** Seconds each pod waited for its IP. */
  podWaitS: { p50: number; p99: number; max: number };
  /** When the last pod got its IP, seconds from the start of the scenario. */
  lastPodS: number;
  /** Rolling restart: when the last agent was ready again, seconds from the start; else null. */
  endS: number | null;
  /** Rolling restart: per agent, seconds from its stop to its pool restored and serving. */
  restartS: { count: number; p50: number; p99: number; max: number } | null;
  calls: Record<string, { accepted: number; throttled: number }>;
  throttled: number;
  /**
   * Idle IPs across the fleet when the last pod got its IP (where pods keep coming: at the
   * end), the most at any time, and the mean over time.
   */
  idleIps: { atLastPod: number; peak: number; mean: number };
  /** Accepted calls per action per second and idle IPs across the fleet, in windows of `windowS` seconds. */
  timeline: { windowS: number; perAction: Record<string, number[]>; throttledPerS: number[]; idle: number[] };
}

export class FleetMetrics {
  private readonly firstAsk: Float64Array;
  private readonly lastServe: Float64Array;
  private readonly idleOf: Int32Array;
  private readonly waits: number[] = [];
  private readonly accepted = new Map<string, number[]>();
  private readonly refused: number[] = [];
  private askedCount = 0;
  private servedCount = 0;
  private last = 0;
  private idleTotal = 0;
  private idlePeak = 0;
  private idleAtLast = -1;
  private idleArea = 0;
  private idleSince = 0;
  private readonly idleBySecond: number[] = [];
  private readonly restarts: number[] = [];

  constructor(
    nodes: number,
    private readonly expected: number,
  ) {
    this.firstAsk = new Float64Array(nodes).fill(-1);
    this.lastServe = new Float64Array(nodes).fill(-1);
    this.idleOf = new Int32Array(nodes);
  }

  asked(node: number, t: number): void {
    this.askedCount++;
    if (this.firstAsk[node] === -1) this.firstAsk[node] = t;
  }

  served(node: number, t: number, waitedMs: number): void {
    this.servedCount++;
    this.lastServe[node] = t;
    this.waits.push(waitedMs);
    if (t > this.last) this.last = t;
  }

  /** Pods that asked and have no IP yet. */
  waitingPods(): number {
    return this.askedCount - this.servedCount;
  }

  /** An agent restarted: from its stop to its pool restored, ms. */
  restarted(ms: number): void {
    this.restarts.push(ms);
  }

  allServed(): boolean {
    return this.servedCount >= this.expected;
  }

  lastServedAt(): number {
    return this.last;
  }

  call(action: string, t: number, throttled: boolean): void {
    const s = Math.floor(t / 1000);
    if (throttled) {
      this.refused[s] = (this.refused[s] ?? 0) + 1;
      this.bump(`${action}!`, s);
    } else this.bump(action, s);
  }

  idle(node: number, idle: number, t: number): void {
    if (t > this.idleSince) {
      this.idleArea += this.idleTotal * (t - this.idleSince);
      this.idleSince = t;
    }
    this.idleTotal += idle - (this.idleOf[node] as number);
    this.idleBySecond[Math.floor(t / 1000)] = this.idleTotal;
    this.idleOf[node] = idle;
    if (this.idleTotal > this.idlePeak) this.idlePeak = this.idleTotal;
    // The first count after the last pod got its IP (the same settle of that node).
    if (this.idleAtLast < 0 && this.allServed()) this.idleAtLast = this.idleTotal;
  }

  private bump(key: string, s: number): void {
    let a = this.accepted.get(key);
    if (a === undefined) {
      a = [];
      this.accepted.set(key, a);
    }
    a[s] = (a[s] ?? 0) + 1;
  }

  report(meta: {
    strategy: string;
    seed: number;
    scenario: FleetReport["scenario"];
    maxBindable: number;
    endS: number | null;
  }): FleetReport {
    const ready: number[] = [];
    for (let i = 0; i < this.firstAsk.length; i++) {
      const a = this.firstAsk[i] as number;
      const l = this.lastServe[i] as number;
      if (a >= 0 && l >= 0) ready.push((l - a) / 1000);
    }
    const waits = this.waits.map((w) => w / 1000);
    const stats = (xs: number[]) => {
      const sorted = xs.sort((a, b) => a - b);
      return {
        p50: round(percentile(sorted, 0.5) ?? 0),
        p99: round(percentile(sorted, 0.99) ?? 0),
        max: round(sorted.at(-1) ?? 0),
      };
    };
    const seconds = Math.max(
      this.refused.length,
      this.idleBySecond.length,
      ...[...this.accepted.values()].map((a) => a.length),
    );
    // About 300 points per line whatever the length of the run.
    const windowS = Math.max(1, Math.ceil(seconds / 300));
    const windows = (a: number[]) => {
      const out: number[] = [];
      for (let w = 0; w * windowS < seconds; w++) {
        let sum = 0;
        for (let s = w * windowS; s < (w + 1) * windowS; s++) sum += a[s] ?? 0;
        out.push(round(sum / windowS));
      }
      return out;
    };
    const calls: FleetReport["calls"] = {};
    const perAction: Record<string, number[]> = {};
    for (const key of [...this.accepted.keys()].sort()) {
      const action = key.replace(/!$/, "");
      const total = (this.accepted.get(key) as number[]).reduce((x, y) => x + (y ?? 0), 0);
      calls[action] ??= { accepted: 0, throttled: 0 };
      if (key.endsWith("!")) calls[action].throttled += total;
      else {
        calls[action].accepted += total;
        perAction[action] = windows(this.accepted.get(key) as number[]);
      }
    }
    return {
      version: FLEET_REPORT_VERSION,
      strategy: meta.strategy,
      seed: meta.seed,
      scenario: meta.scenario,
      maxBindable: meta.maxBindable,
      pods: { asked: this.askedCount, served: this.servedCount, unserved: this.askedCount - this.servedCount },
      nodeReadyS: stats(ready),
      podWaitS: stats(waits),
      lastPodS: round(this.last / 1000),
      calls,
      throttled: Object.values(calls).reduce((x, c) => x + c.throttled, 0),
      idleIps: {
        atLastPod: this.idleAtLast >= 0 ? this.idleAtLast : this.idleTotal,
        peak: this.idlePeak,
        mean: this.idleSince > 0 ? Math.round(this.idleArea / this.idleSince) : this.idleTotal,
      },
      endS: meta.endS === null ? null : round(meta.endS),
      restartS:
        this.restarts.length === 0
          ? null
          : { count: this.restarts.length, ...stats(this.restarts.map((x) => x / 1000)) },
      timeline: {
        windowS,
        perAction,
        throttledPerS: windows(this.refused),
        idle: windows(carried(this.idleBySecond, seconds)),
      },
    };
  }
}

/** Each second's last value, carried over the seconds without one. */
function carried(xs: number[], seconds: number): number[] {
  const out: number[] = [];
  let last = 0;
  for (let s = 0; s < seconds; s++) {
    last = xs[s] ?? last;
    out.push(last);
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
