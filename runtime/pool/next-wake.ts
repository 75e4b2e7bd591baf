// When plan() next has something to do on its own, so that the agent and the simulator sleep
// until then instead of polling.
import { WAITING_TTL_MS } from "./allocate.ts";
import { countsOf } from "./plan.ts";
import type { Millis, PoolState } from "./types.ts";

/**
 * The earliest future time at which plan() (or a waiting pod's retry) may act without any new
 * event: the release timer, the end of a pause or back-off, a cooling IP a waiting pod needs.
 * null when nothing is scheduled.
 */
export function nextWakeAt(state: PoolState, now: Millis): Millis | null {
  const times: number[] = [];
  // the release cadence's next tick, when it could find something to do: a surplus, a tick
  // still waiting for a bind, or a podless ENI rule 5 might empty
  if (state.release.dueAt !== null && releaseTickMatters(state)) times.push(state.release.dueAt);
  times.push(state.paused.allUntil, state.paused.createUntil);
  for (const b of Object.values(state.backoff)) times.push(b.until);
  for (const n of state.subnets) times.push(n.pausedUntil);
  const waiting = Object.values(state.waiting);
  if (waiting.length > 0) {
    for (const e of state.enis)
      for (const slot of e.ips) if (slot.pod === null && !slot.releasing) times.push(slot.coolUntil);
    for (const since of waiting) times.push(since + WAITING_TTL_MS);
  }
  let best: number | null = null;
  for (const t of times) if (t > now && (best === null || t < best)) best = t;
  return best;
}

function releaseTickMatters(state: PoolState): boolean {
  if (state.release.draining) return true;
  const { demand, have } = countsOf(state);
  if (have > Math.max(demand + state.settings.maxPrebind, state.settings.floor)) return true;
  return state.enis.some((e) => !e.primary && e.ips.length > 0 && e.ips.every((slot) => slot.pod === null));
}
