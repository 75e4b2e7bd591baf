// Read-only figures of a state: the Node's extended resource, a summary for metrics and the
// simulator, and when plan() next has something to do on its own (so no one polls).
import { idleCount, WAITING_TTL_MS } from "./allocate.ts";
import { pendingBindCount } from "./plan.ts";
import { limitsOf } from "./settings.ts";
import { boundCount, podEnis } from "./state.ts";
import type { ExtendedResource, Millis, PoolState } from "./types.ts";

/** tke.cloud.tencent.com/eni-ip: Allocatable = IPs actually bound (not being released), Capacity = maxBindable. */
export function extendedResource(state: PoolState): ExtendedResource {
  return { allocatable: boundCount(state), capacity: limitsOf(state).maxBindable };
}

export interface PoolSummary {
  pods: number;
  waiting: number;
  bound: number;
  idle: number;
  /** Idle IPs a new pod could take right now (not cooling down). */
  ready: number;
  pendingBind: number;
  enis: number;
  inflight: number;
  maxBindable: number;
}

export function summary(state: PoolState, now: Millis): PoolSummary {
  const idle = idleCount(state, now);
  return {
    pods: Object.keys(state.pods).length,
    waiting: Object.keys(state.waiting).length,
    bound: boundCount(state),
    idle: idle.total,
    ready: idle.ready,
    pendingBind: pendingBindCount(state),
    enis: podEnis(state).length,
    inflight: state.inflight.length,
    maxBindable: limitsOf(state).maxBindable,
  };
}

/**
 * The earliest future time at which plan() (or a waiting pod's retry) may act without any new
 * event: the release timer, the end of a pause or back-off, a cooling IP a waiting pod needs.
 * null when nothing is scheduled.
 */
export function nextWakeAt(state: PoolState, now: Millis): Millis | null {
  const times: number[] = [];
  if (state.release.dueAt !== null) times.push(state.release.dueAt);
  times.push(state.paused.allUntil, state.paused.createUntil);
  for (const b of Object.values(state.backoff)) times.push(b.until);
  for (const n of state.subnets) times.push(n.pausedUntil);
  const waiting = Object.values(state.waiting);
  if (waiting.length > 0) {
    for (const e of state.enis) for (const slot of e.ips) if (slot.pod === null && !slot.releasing) times.push(slot.coolUntil);
    for (const since of waiting) times.push(since + WAITING_TTL_MS);
  }
  let best: number | null = null;
  for (const t of times) if (t > now && (best === null || t < best)) best = t;
  return best;
}
