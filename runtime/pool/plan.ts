// plan(): the rules of "Non-fixed IP mode" turned into cloud decisions. It is called after every
// event (pod added or deleted, operation result, clock tick); each decision it returns is
// recorded as in flight in the returned state, so calling it again never repeats a request.
import { expireWaiting, idleCount } from "./allocate.ts";
import { limitsOf, type Limits } from "./settings.ts";
import { assignedOn, boundCount, busyEnis, cloneState, cmp, demandCount, isPaused, podEnis } from "./state.ts";
import type { Decision, EniState, IpSlot, Millis, PoolState } from "./types.ts";

export interface PlanResult {
  state: PoolState;
  decisions: Decision[];
}

/** Bound IPs plus IPs that in-flight binds and creates will add. */
export function pendingBindCount(s: PoolState): number {
  let n = 0;
  for (const op of s.inflight) {
    const d = op.decision;
    if (d.action === "bind") n += d.count;
    else if (d.action === "create-eni") n += d.ips;
  }
  return n;
}

export function plan(state: PoolState, now: Millis): PlanResult {
  const s = cloneState(state);
  expireWaiting(s, now);
  const out: Decision[] = [];
  const emit = (d: Decision) => {
    out.push(d);
    s.inflight.push({ decision: d, startedAt: now });
  };
  const limits = limitsOf(s);
  enforceEniLimits(s, now, limits, emit);
  const demand = demandCount(s);
  const have = boundCount(s) + pendingBindCount(s);
  // Rule 1: bound = pods + minPrebind at once, never past maxBindable.
  const target = Math.min(Math.max(demand + s.settings.minPrebind, s.settings.floor), limits.maxBindable);
  const high = Math.max(demand + s.settings.maxPrebind, s.settings.floor);
  let unmet = 0;

  if (have > limits.maxBindable) {
    // Rule 3: a lowered limit is honoured at once, not on the release timer.
    releaseIdle(s, have - limits.maxBindable, now, limits, emit);
    s.release = { dueAt: null, draining: false };
  } else {
    // Cooling IPs count as bound but cannot serve a waiting pod: bind for those pods too,
    // rather than let them wait out the cooldown (rule 4: a new pod gets an IP at once).
    const forWaiting = Object.keys(s.waiting).length - idleCount(s, now).ready - pendingBindCount(s);
    const need = Math.max(target - have, Math.min(forWaiting, limits.maxBindable - have));
    if (need > 0) unmet = grow(s, need, now, limits, emit);
    releaseOnTimer(s, have - high, now, limits, emit);
  }
  deleteEmptyEnis(s, unmet > 0, now, emit);
  return { state: s, decisions: out };
}

function newId(s: PoolState): string {
  return `op-${s.nextOpSeq++}`;
}

/** Free IPs of a subnet that in-flight binds and creates have not already spoken for. */
function subnetRoom(s: PoolState, subnet: string, now: Millis): number {
  const n = s.subnets.find((x) => x.id === subnet);
  if (n === undefined || now < n.pausedUntil) return 0;
  let pending = 0;
  for (const op of s.inflight) {
    const d = op.decision;
    if (d.action === "create-eni" && d.subnet === subnet) pending += d.ips;
    if (d.action === "bind" && s.enis.find((e) => e.id === d.eni)?.subnet === subnet) pending += d.count;
  }
  return Math.max(0, n.available - pending);
}

function pendingOn(s: PoolState, eni: string): number {
  let n = 0;
  for (const op of s.inflight) if (op.decision.action === "bind" && op.decision.eni === eni) n += op.decision.count;
  return n;
}

/** ENIs past a lowered maxEnisPerNode get no new IPs: the ones with the most pods are kept. */
function growableEnis(s: PoolState, limits: Limits): EniState[] {
  const live = podEnis(s)
    .filter((e) => !e.deleting)
    .sort((a, b) => assignedOn(b) - assignedOn(a) || b.ips.length - a.ips.length || cmp(a.id, b.id));
  return live.slice(0, limits.maxEnis);
}

/** Binds toward the target; returns the need this plan could not cover (0 when covered). */
function grow(s: PoolState, need: number, now: Millis, limits: Limits, emit: (d: Decision) => void): number {
  const busy = busyEnis(s);
  const bindPaused = isPaused(s, "bind", now);
  // Rule 5: fill the ENI with the most assigned IPs first, so that pods crowd onto few ENIs.
  let waitForBusy = false;
  for (const e of growableEnis(s, limits)) {
    if (need <= 0) break;
    const room = e.full ? 0 : limits.ipsPerEni - e.ips.length - pendingOn(s, e.id);
    const free = subnetRoom(s, e.subnet, now);
    if (room <= 0 || free <= 0) continue;
    if (busy.has(e.id) || bindPaused) {
      waitForBusy = true; // it can still take IPs: no new ENI for now (rule 5)
      continue;
    }
    const count = Math.min(need, room, free, limits.ipsPerCall);
    emit({ id: newId(s), action: "bind", eni: e.id, count });
    need -= count;
    if (count < Math.min(room, free)) waitForBusy = true; // capped per call: the ENI takes more next round
  }
  if (need <= 0 || waitForBusy) return need;
  // ENIs being created take more IPs once attached than their Create call carries.
  const creating = s.inflight.flatMap((op) => (op.decision.action === "create-eni" ? [op.decision] : []));
  const futureRoom = creating.reduce((n, d) => n + Math.max(0, limits.ipsPerEni - d.ips), 0);
  if (need <= futureRoom) return 0;
  if (isPaused(s, "create-eni", now)) return need - futureRoom;
  need -= futureRoom;
  // Rule 5: a new ENI only when every ENI is at quota or its subnet is full; several at once
  // when the need is more than one ENI holds (a burst on a fresh node).
  let enis = podEnis(s).length + creating.length;
  while (need > 0 && enis < limits.maxEnis) {
    // Rule 6: the listed subnet with the most available IPs (ties: the policy's order).
    let best: { id: string; room: number } | undefined;
    for (const n of s.subnets) {
      const room = subnetRoom(s, n.id, now);
      if (room > 0 && (best === undefined || room > best.room)) best = { id: n.id, room };
    }
    if (best === undefined) return need;
    emit({ id: newId(s), action: "create-eni", subnet: best.id, ips: Math.min(need, limits.ipsPerEni, best.room, limits.ipsPerCall) });
    need -= Math.min(need, limits.ipsPerEni);
    enis++;
  }
  return need;
}

/**
 * Rule 3 per ENI: after the policy lowered maxEnisPerNode or ipsPerEni, idle IPs on an ENI past
 * the limit (or above its per-ENI quota) go at once, so that the ENI shrinks or can be deleted.
 */
function enforceEniLimits(s: PoolState, now: Millis, limits: Limits, emit: (d: Decision) => void): void {
  if (isPaused(s, "release", now)) return;
  const busy = busyEnis(s);
  const kept = new Set(growableEnis(s, limits).map((e) => e.id));
  for (const e of podEnis(s)) {
    if (e.deleting || busy.has(e.id)) continue;
    const live = e.ips.filter((slot) => !slot.releasing);
    const excess = kept.has(e.id) ? live.length - limits.ipsPerEni : live.length;
    if (excess > 0) releaseFrom(s, e, excess, now, limits, emit);
  }
}

/** Idle IPs of an ENI, those not cooling down first: a cooling IP may still go back to the VPC. */
function idleFirst(e: EniState, now: Millis): IpSlot[] {
  return e.ips
    .filter((slot) => slot.pod === null && !slot.releasing)
    .sort((a, b) => Number(a.coolUntil > now) - Number(b.coolUntil > now) || a.coolUntil - b.coolUntil || cmp(a.ip, b.ip));
}

/**
 * Rule 2: idle IPs above pods + maxPrebind are released only after the surplus has lasted a
 * whole releaseInterval (damping churn); once the timer fires, releasing goes on until the
 * surplus is gone.
 */
function releaseOnTimer(s: PoolState, surplus: number, now: Millis, limits: Limits, emit: (d: Decision) => void): void {
  const growing = s.inflight.some((op) => op.decision.action === "bind" || op.decision.action === "create-eni");
  const spare = surplus > 0 || growing ? undefined : spareEni(s, limits, now);
  if ((surplus <= 0 && spare === undefined) || growing) {
    s.release = { dueAt: null, draining: false };
    return;
  }
  if (s.release.dueAt === null) s.release.dueAt = now + s.settings.releaseIntervalMs;
  if (!s.release.draining && now < s.release.dueAt) return;
  s.release.draining = true;
  if (spare === undefined) releaseIdle(s, surplus, now, limits, emit);
  else releaseFrom(s, spare, spare.ips.length, now, limits, emit);
}

/**
 * Rule 5 (least ENIs), on the same timer: an ENI that holds no pod, whose idle IPs the other
 * ENIs have room for, is emptied; rule 1 then binds the IPs again on the fuller ENIs and the
 * empty ENI is deleted. This undoes the spread a vanished burst or a cloud error leaves behind.
 */
function spareEni(s: PoolState, limits: Limits, now: Millis): EniState | undefined {
  if (isPaused(s, "release", now) || isPaused(s, "bind", now)) return undefined;
  const busy = busyEnis(s);
  const growable = growableEnis(s, limits).filter((e) => !busy.has(e.id) && !e.full && subnetRoom(s, e.subnet, now) > 0);
  const candidates = podEnis(s)
    .filter((e) => !e.deleting && !busy.has(e.id) && e.ips.length > 0 && e.ips.every((slot) => slot.pod === null && !slot.releasing))
    .sort((a, b) => a.ips.length - b.ips.length || cmp(a.id, b.id));
  for (const e of candidates) {
    const room = growable.reduce((n, x) => n + (x.id === e.id ? 0 : Math.max(0, limits.ipsPerEni - x.ips.length)), 0);
    if (room >= e.ips.length) return e;
  }
  return undefined;
}

/** Rule 5: release from the ENI with the FEWEST assigned IPs, so that it empties and can go. */
function releaseIdle(s: PoolState, count: number, now: Millis, limits: Limits, emit: (d: Decision) => void): void {
  if (isPaused(s, "release", now)) return;
  const busy = busyEnis(s);
  const order = podEnis(s)
    .filter((e) => !e.deleting && !busy.has(e.id))
    .sort((a, b) => assignedOn(a) - assignedOn(b) || a.ips.length - b.ips.length || cmp(a.id, b.id));
  for (const e of order) {
    if (count <= 0) return;
    count -= releaseFrom(s, e, count, now, limits, emit);
  }
}

/** One Unassign call of up to `count` idle IPs of an ENI; returns how many it carries. */
function releaseFrom(s: PoolState, e: EniState, count: number, now: Millis, limits: Limits, emit: (d: Decision) => void): number {
  const take = idleFirst(e, now).slice(0, Math.min(count, limits.ipsPerCall));
  if (take.length === 0) return 0;
  for (const slot of take) slot.releasing = true;
  emit({ id: newId(s), action: "release", eni: e.id, ips: take.map((slot) => slot.ip).sort(cmp) });
  return take.length;
}

/** Rule 5: an ENI with no secondary IP goes, unless IPs are still needed and it could take them. */
function deleteEmptyEnis(s: PoolState, needMore: boolean, now: Millis, emit: (d: Decision) => void): void {
  if (isPaused(s, "delete-eni", now)) return;
  const busy = busyEnis(s);
  const limits = limitsOf(s);
  const growable = new Set(growableEnis(s, limits).map((e) => e.id));
  for (const e of podEnis(s)) {
    if (e.deleting || busy.has(e.id) || e.ips.length > 0) continue;
    const useful = needMore && growable.has(e.id) && subnetRoom(s, e.subnet, now) > 0;
    if (useful) continue;
    e.deleting = true;
    emit({ id: newId(s), action: "delete-eni", eni: e.id });
  }
}
