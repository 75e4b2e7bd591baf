// Claims outliving their pods: manual reclaim, and the garbage collection of expired claims
// (spec/fixed-ip.md "Manual reclaim"; spec/behaviour.md "Fixed IP mode" rule 6).
import { NONE } from "./claim-table.ts";
import { releaseSlot } from "./pod.ts";
import { decisionSink } from "./state.ts";
import { tableOf } from "./state-index.ts";
import type { FixedState, Millis, Step } from "./types.ts";

/**
 * Deleting a claim reclaims its address at once when no pod runs with it; a running pod keeps
 * its address until it goes, and then it is released whatever the reclaim said.
 */
export function deleteClaim(s: FixedState, key: string): Step {
  const t = tableOf(s);
  const slot = t.slotOfClaim(key);
  if (slot === NONE) return { ok: true, state: s, decisions: [] };
  const { decisions, emit } = decisionSink(s);
  if (t.nodeId(slot) !== NONE) t.setDeleted(slot);
  else releaseSlot(s, slot, emit);
  return { ok: true, state: s, decisions };
}

/** Kept claims whose delay has passed are released (the controller calls this on a timer). */
export function collectExpired(s: FixedState, now: Millis): Step {
  const t = tableOf(s);
  const expired: number[] = [];
  for (const slot of t.slots()) {
    const at = t.expiresAt(slot);
    if (t.nodeId(slot) === NONE && at !== null && at <= now) expired.push(slot);
  }
  if (expired.length === 0) return { ok: true, state: s, decisions: [] };
  const { decisions, emit } = decisionSink(s);
  for (const slot of expired) releaseSlot(s, slot, emit);
  return { ok: true, state: s, decisions };
}

/** When collectExpired next has work: the earliest expiry, or null. */
export function nextWakeAt(s: FixedState): Millis | null {
  const t = tableOf(s);
  let next: Millis | null = null;
  for (const slot of t.slots()) {
    const at = t.expiresAt(slot);
    if (t.nodeId(slot) === NONE && at !== null && (next === null || at < next)) next = at;
  }
  return next;
}
