// Claims outliving their pods: manual reclaim, and the garbage collection of expired claims
// (spec/fixed-ip.md "Manual reclaim"; spec/behaviour.md "Fixed IP mode" rule 6).
import { releaseAddress } from "./pod.ts";
import { decisionSink } from "./state.ts";
import type { FixedState, Millis, Step } from "./types.ts";

/**
 * Deleting a claim reclaims its address at once when no pod runs with it; a running pod keeps
 * its address until it goes, and then it is released whatever the reclaim said.
 */
export function deleteClaim(s: FixedState, key: string): Step {
  const claim = s.claims[key];
  if (!claim) return { ok: true, state: s, decisions: [] };
  const { decisions, emit } = decisionSink(s);
  if (claim.node !== null) claim.deleted = true;
  else releaseAddress(s, claim.address, emit);
  return { ok: true, state: s, decisions };
}

/** Kept claims whose delay has passed are released (the controller calls this on a timer). */
export function collectExpired(s: FixedState, now: Millis): Step {
  const expired = Object.values(s.claims).filter((c) => c.node === null && c.expiresAt !== null && c.expiresAt <= now);
  if (expired.length === 0) return { ok: true, state: s, decisions: [] };
  const { decisions, emit } = decisionSink(s);
  for (const c of expired) releaseAddress(s, c.address, emit);
  return { ok: true, state: s, decisions };
}

/** When collectExpired next has work: the earliest expiry, or null. */
export function nextWakeAt(state: FixedState): Millis | null {
  let next: Millis | null = null;
  for (const c of Object.values(state.claims)) {
    if (c.node === null && c.expiresAt !== null && (next === null || c.expiresAt < next)) next = c.expiresAt;
  }
  return next;
}
