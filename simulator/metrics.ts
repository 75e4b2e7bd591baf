// What the simulator counts while it runs: API calls, waits, idle and bound IPs over time (as a
// cluster total), ENIs, and two safety checks that must stay at zero.
import type { Decision, ErrorKind, OperationResult, PoolSummary } from "../runtime/pool/index.ts";
import { API_ACTIONS, type ApiAction, callsOf } from "./cloud-model.ts";

export interface Sample {
  /** Seconds from the start of the trace. */
  t: number;
  pods: number;
  bound: number;
  idle: number;
  enis: number;
}

interface Totals {
  pods: number;
  bound: number;
  idle: number;
  enis: number;
}

const MAX_POINTS = 1500;

export class Metrics {
  readonly byAction = Object.fromEntries(API_ACTIONS.map((a) => [a, 0])) as Record<ApiAction, number>;
  readonly failedByKind: Partial<Record<ErrorKind, number>> = {};
  failedCalls = 0;
  podsAdded = 0;
  servedAtOnce = 0;
  abandonedCount = 0;
  readonly waits: number[] = [];
  enisCreated = 0;
  enisDeleted = 0;
  /** An IP handed to a pod while another pod held it. Must stay 0. */
  doubleAssigned = 0;
  /** Observations where a node's bound IPs exceeded its maxBindable. Must stay 0. */
  overMaxBindable = 0;
  peak: Totals = { pods: 0, bound: 0, idle: 0, enis: 0 };
  private readonly held = new Set<string>();
  private readonly perNode = new Map<string, Totals>();
  private totals: Totals = { pods: 0, bound: 0, idle: 0, enis: 0 };
  private readonly samples: Sample[] = [];
  private start: number | null = null;
  private lastT = 0;
  private idleArea = 0;
  private boundArea = 0;

  constructor(nodes: readonly string[]) {
    for (const n of nodes) this.perNode.set(n, { pods: 0, bound: 0, idle: 0, enis: 0 });
  }

  added(): void {
    this.podsAdded++;
  }
  abandoned(): void {
    this.abandonedCount++;
  }
  assigned(ip: string, waitMs: number): void {
    if (this.held.has(ip)) this.doubleAssigned++;
    this.held.add(ip);
    if (waitMs === 0) this.servedAtOnce++;
    else this.waits.push(waitMs);
  }
  freed(ip: string): void {
    this.held.delete(ip);
  }
  /** A failed decision costs its first call only (an Attach never follows a failed Create). */
  calls(d: Decision, result: OperationResult): void {
    const calls = callsOf(d);
    for (const a of result.ok ? calls : calls.slice(0, 1)) this.byAction[a]++;
    if (!result.ok) {
      this.failedCalls++;
      this.failedByKind[result.error.kind] = (this.failedByKind[result.error.kind] ?? 0) + 1;
    }
  }
  eniCreated(): void {
    this.enisCreated++;
  }
  eniDeleted(): void {
    this.enisDeleted++;
  }

  observe(node: string, t: number, s: PoolSummary, maxBindable: number): void {
    if (s.bound > maxBindable) this.overMaxBindable++;
    this.advance(t);
    const before = this.perNode.get(node) ?? { pods: 0, bound: 0, idle: 0, enis: 0 };
    const now: Totals = { pods: s.pods, bound: s.bound, idle: s.idle, enis: s.enis };
    this.perNode.set(node, now);
    const x = this.totals;
    this.totals = {
      pods: x.pods + now.pods - before.pods,
      bound: x.bound + now.bound - before.bound,
      idle: x.idle + now.idle - before.idle,
      enis: x.enis + now.enis - before.enis,
    };
    for (const k of ["pods", "bound", "idle", "enis"] as const) this.peak[k] = Math.max(this.peak[k], this.totals[k]);
    const sample = { t: t / 1000, ...this.totals };
    if (this.samples.at(-1)?.t === sample.t) this.samples[this.samples.length - 1] = sample;
    else this.samples.push(sample);
  }

  /** Time-weighted means over [first event, end]. */
  means(end: number): { idle: number; bound: number } {
    this.advance(end);
    const span = end - (this.start ?? end);
    return span > 0
      ? { idle: this.idleArea / span, bound: this.boundArea / span }
      : { idle: this.totals.idle, bound: this.totals.bound };
  }

  /** At most MAX_POINTS samples: each time bucket keeps its highest values, so peaks show. */
  series(): Sample[] {
    if (this.samples.length <= MAX_POINTS) return [...this.samples];
    const first = this.samples[0] as Sample;
    const width = ((this.samples.at(-1) as Sample).t - first.t) / MAX_POINTS || 1;
    const out = new Map<number, Sample>();
    for (const s of this.samples) {
      const b = Math.floor((s.t - first.t) / width);
      const cur = out.get(b);
      out.set(
        b,
        cur === undefined
          ? { ...s, t: first.t + b * width }
          : {
              t: cur.t,
              pods: Math.max(cur.pods, s.pods),
              bound: Math.max(cur.bound, s.bound),
              idle: Math.max(cur.idle, s.idle),
              enis: Math.max(cur.enis, s.enis),
            },
      );
    }
    return [...out.values()];
  }

  private advance(t: number): void {
    if (this.start === null) {
      this.start = t;
      this.lastT = t;
    }
    if (t > this.lastT) {
      this.idleArea += this.totals.idle * (t - this.lastT);
      this.boundArea += this.totals.bound * (t - this.lastT);
      this.lastT = t;
    }
  }
}
