// Answers to the CNI plugin: an IP for a new pod (ADD) and the IP back to the pool (DEL).
// Neither calls the cloud: the pool is filled ahead of pods by plan().
import { assignedOn, cloneState, cmp } from "./state.ts";
import type { AllocateResult, EniState, IpSlot, Millis, PodAssignment, PoolState, Rng } from "./types.ts";

/** How long an unanswered ADD keeps counting as demand, in case the runtime never sends DEL. */
export const WAITING_TTL_MS = 10 * 60_000;

/**
 * Rule 4: an idle IP for the pod at once, from the ENI with the MOST assigned IPs (rule 5a, least
 * ENIs), chosen at random among that ENI's idle IPs. Idempotent: a pod that already has an IP
 * gets the same one. When no IP is free the pod is recorded as waiting, so that plan() binds one.
 */
export function allocate(state: PoolState, key: string, now: Millis, rng: Rng): AllocateResult {
  const existing = state.pods[key];
  if (existing !== undefined) return { state, ok: true, ip: existing.ip, eni: existing.eni };
  if (state.settings.draining === true)
    return {
      state,
      ok: false,
      error: { code: "switched-off", message: `the policy switches vpccni off on this node: no IP for pod ${key}` },
    };
  const s = cloneState(state);
  const eni = mostAssignedEni(s, now);
  if (eni === undefined) {
    if (s.waiting[key] === undefined) s.waiting[key] = now;
    const idle = idleCount(s, now);
    const cooling = idle.total - idle.ready;
    return {
      state: s,
      ok: false,
      error: {
        code: "no-idle-ip",
        message: `no idle IP on this node for pod ${key}: ${idle.total} idle (${cooling} cooling down), ${s.inflight.length} cloud operation(s) in flight; the pool grows on the next plan`,
      },
    };
  }
  const idle = eni.ips.filter((slot) => isReady(slot, now));
  const slot = idle[Math.min(idle.length - 1, Math.floor(rng() * idle.length))] as IpSlot;
  slot.pod = key;
  s.pods[key] = { ip: slot.ip, eni: eni.id, since: now };
  delete s.waiting[key];
  return { state: s, ok: true, ip: slot.ip, eni: eni.id };
}

/**
 * Rule 4: the pod's IP goes back to the node pool (not to the VPC) and rests for ipCooldown
 * before the next pod gets it. Unknown pods are fine: CNI DEL must be idempotent.
 */
export function release(
  state: PoolState,
  key: string,
  now: Millis,
): { state: PoolState; released: PodAssignment | null } {
  const assignment = state.pods[key];
  if (assignment === undefined && state.waiting[key] === undefined) return { state, released: null };
  const s = cloneState(state);
  delete s.waiting[key];
  if (assignment === undefined) return { state: s, released: null };
  delete s.pods[key];
  const slot = s.enis.find((e) => e.id === assignment.eni)?.ips.find((x) => x.ip === assignment.ip);
  if (slot !== undefined && slot.pod === key) {
    slot.pod = null;
    slot.coolUntil = now + s.settings.cooldownMs;
  }
  return { state: s, released: { ...assignment } };
}

/** Forget waiting pods the runtime gave up on without a DEL. */
export function expireWaiting(s: PoolState, now: Millis): void {
  for (const [key, since] of Object.entries(s.waiting)) if (now - since >= WAITING_TTL_MS) delete s.waiting[key];
}

export function isReady(slot: IpSlot, now: Millis): boolean {
  return slot.pod === null && !slot.releasing && now >= slot.coolUntil;
}

/**
 * Rule 5a: the ENI a new pod's IP comes from: of the ENIs with an idle IP ready now (not the
 * primary, not being deleted), the one with the MOST assigned IPs; ties: the lowest id.
 */
export function mostAssignedEni(s: PoolState, now: Millis): EniState | undefined {
  let best: EniState | undefined;
  let bestAssigned = -1;
  for (const e of s.enis) {
    if (e.primary || e.deleting || !e.ips.some((slot) => isReady(slot, now))) continue;
    const assigned = assignedOn(e);
    if (assigned > bestAssigned || (assigned === bestAssigned && best !== undefined && cmp(e.id, best.id) < 0)) {
      best = e;
      bestAssigned = assigned;
    }
  }
  return best;
}

export function idleCount(s: PoolState, now = Infinity): { total: number; ready: number } {
  let total = 0;
  let ready = 0;
  for (const e of s.enis) {
    if (e.primary) continue;
    for (const slot of e.ips) {
      if (slot.pod !== null || slot.releasing) continue;
      total++;
      if (now >= slot.coolUntil && !e.deleting) ready++;
    }
  }
  return { total, ready };
}
