// Fault injection: throttling, latency, hung requests, injected errors, stale Describes.
// Every roll uses the seeded generator, so a test with a seed sees the same faults each run.
import type { ActionFault, Faults } from "./config.ts";
import type { Rng } from "./rng.ts";
import type { EniRec } from "./state.ts";

export function faultFor(faults: Faults, action: string): ActionFault | undefined {
  return faults[action] ?? faults["*"];
}

/** Token bucket per action, refilled at `qps` per second of the emulator clock, burst = qps. */
export class Throttle {
  private buckets = new Map<string, { tokens: number; at: number }>();

  admit(action: string, qps: number | undefined, nowMs: number): boolean {
    if (qps === undefined) return true;
    const b = this.buckets.get(action) ?? { tokens: qps, at: nowMs };
    b.tokens = Math.min(qps, b.tokens + ((nowMs - b.at) / 1000) * qps);
    b.at = nowMs;
    this.buckets.set(action, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  reset(): void {
    this.buckets.clear();
  }
}

export function latencyMs(fault: ActionFault | undefined, rng: Rng): number {
  const l = fault?.latency;
  if (!l) return 0;
  if ("fixedMs" in l) return l.fixedMs;
  if ("uniformMs" in l) return l.uniformMs[0] + rng.next() * Math.max(0, l.uniformMs[1] - l.uniformMs[0]);
  return rng.exponential(l.exponentialMeanMs);
}

export type ErrorRoll = "none" | "before" | "after";

export function rollError(fault: ActionFault | undefined, rng: Rng): ErrorRoll {
  if (!fault || fault.errorRate <= 0 || rng.next() >= fault.errorRate) return "none";
  if (fault.errorPhase === "either") return rng.next() < 0.5 ? "before" : "after";
  return fault.errorPhase;
}

/** `answer` with every field named in `tamper` replaced, at any depth; `answer` is not changed. */
export function tampered(answer: unknown, tamper: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(answer)) return answer.map((v) => tampered(v, tamper));
  if (answer === null || typeof answer !== "object") return answer;
  return Object.fromEntries(
    Object.entries(answer).map(([k, v]) => [k, Object.hasOwn(tamper, k) ? tamper[k] : tampered(v, tamper)]),
  );
}

export function rollHang(fault: ActionFault | undefined, rng: Rng): boolean {
  return !!fault && fault.hangRate > 0 && rng.next() < fault.hangRate;
}

/** Past copies of the ENI map, so Describes can answer from the state `staleMs` ago. */
export class History {
  private snaps: { at: number; enis: Record<string, EniRec> }[] = [];

  record(nowMs: number, enis: Record<string, EniRec>, keepMs: number): void {
    if (keepMs <= 0) {
      this.snaps = [];
      return;
    }
    this.snaps.push({ at: nowMs, enis: structuredClone(enis) });
    // Keep the newest snapshot older than the window too: it is the answer for the window's start.
    while (this.snaps.length > 1 && this.snaps[1]!.at <= nowMs - keepMs) this.snaps.shift();
  }

  /** The ENIs as they were at `atMs`, or undefined when no snapshot is that old. */
  at(atMs: number): Record<string, EniRec> | undefined {
    let found: Record<string, EniRec> | undefined;
    for (const s of this.snaps) if (s.at <= atMs) found = s.enis;
    return found;
  }
}
