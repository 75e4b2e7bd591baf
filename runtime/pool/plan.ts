// plan(): the rules of "Non-fixed IP mode" turned into cloud decisions. It is called after every
// event (pod added or deleted, operation result, clock tick); each decision it returns is
// recorded as in flight in the returned state, so calling it again never repeats a request.
//
// Rule table: each rule of spec/behaviour.md "Non-fixed IP mode" and the exported function that
// implements it (rule-functions.test.ts tests each one and that every name here is exported).
//      rule                                        function              file
//   1  bind to pods+min, never past maxBindable    bindNeed              plan.ts
//   2  release on timer                            releaseOnTimer        plan.ts
//   3  release above maxBindable at once           releaseAboveLimits    plan.ts
//   4  idle IP at once / cooldown                  allocate              allocate.ts
//   4  released pod IP back to the node pool       release               allocate.ts
//   5a assign from most-used ENI                   mostAssignedEni       allocate.ts
//   5b release from least-used ENI                 releaseLeastAssigned  plan.ts
//   5c new ENI for what bound ENIs cannot take     fillBoundEnis         plan.ts
//   5d delete empty ENI                            deleteEmptyEnis       plan.ts
//   5e delete again an ENI left detached           deleteDetachedAgain   plan.ts
//   6  subnet with most free IPs                   subnetForNewEni       plan.ts
//   7  eni-ip Allocatable = bound, Capacity = max  extendedResource      summary.ts
//   8  min<=max                                    checkSettings         settings.ts
//   off switch off: release idle IPs, delete ENIs  drainPool             drain.ts
// Least ENIs (rule 5) also: on the release timer spareEni() empties a podless ENI for 5d.
import { expireWaiting, idleCount } from "./allocate.ts";
import { reanchorTimes } from "./clock.ts";
import { drainPool, isDraining } from "./drain.ts";
import { limitsOf, type Limits } from "./settings.ts";
import {
  assignedOn,
  busyEnis,
  cloneState,
  cmp,
  demandCount,
  isPaused,
  pendingBindCount,
  pledgedCount,
  podEnis,
} from "./state.ts";
import type { CreateEniDecision, Decision, EniState, IpSlot, Millis, PoolState } from "./types.ts";

export interface PlanResult {
  state: PoolState;
  decisions: Decision[];
}

/** How a rule hands over a decision. */
export type Emit = (d: Decision) => void;

/** Decisions are returned and recorded as in flight at once, so that the next rule sees them. */
export function decisionSink(s: PoolState, now: Millis): { decisions: Decision[]; emit: Emit } {
  const decisions: Decision[] = [];
  const emit = (d: Decision) => {
    decisions.push(d);
    s.inflight.push({ decision: d, startedAt: now });
  };
  return { decisions, emit };
}

export function plan(state: PoolState, now: Millis): PlanResult {
  const s = cloneState(state);
  reanchorTimes(s, now); // a clock that jumped back
  expireWaiting(s, now);
  const { decisions, emit } = decisionSink(s, now);
  if (isDraining(s)) {
    drainPool(s, now, emit); // switched off: in place of rules 1 to 6
    deleteDetachedAgain(s, now, emit); // rule 5e
    return { state: s, decisions };
  }
  const limits = limitsOf(s);
  let unmet = 0;
  if (!releaseAboveLimits(s, now, limits, emit)) {
    // rule 3
    const counts = countsOf(s);
    const need = bindNeed(s, counts, now, limits); // rules 1 and 4
    if (need > 0) unmet = grow(s, need, now, limits, emit); // rules 5c and 6
    releaseOnTimer(s, counts, now, limits, emit); // rules 2 and 5b
  }
  deleteEmptyEnis(s, unmet > 0, now, emit); // rule 5d
  deleteDetachedAgain(s, now, emit); // rule 5e
  return { state: s, decisions };
}

function newId(s: PoolState): string {
  return `op-${s.nextOpSeq++}`;
}

/**
 * What rules 1 and 2 compare, counted once per plan (counting pods is the costly part): demand =
 * pods plus waiting pods; have = bound IPs plus those in-flight binds and creates will add.
 */
export type PoolCounts = { demand: number; have: number };

export function countsOf(s: PoolState): PoolCounts {
  return { demand: demandCount(s), have: pledgedCount(s) };
}

/**
 * Rule 1: how many IPs to bind now so that bound = pods + minPrebind (at least the floor), never
 * past maxBindable; IPs in-flight binds and creates will add count as bound. Cooling IPs count as
 * bound but cannot serve a waiting pod, so the pool also grows for waiting pods rather than let
 * them wait out the cooldown (rule 4: a new pod gets an IP at once).
 */
export function bindNeed(s: PoolState, { demand, have }: PoolCounts, now: Millis, limits: Limits): number {
  const target = Math.min(Math.max(demand + s.settings.minPrebind, s.settings.floor), limits.maxBindable);
  const forWaiting = Object.keys(s.waiting).length - idleCount(s, now).ready - pendingBindCount(s);
  return Math.max(target - have, Math.min(forWaiting, limits.maxBindable - have));
}

/** Free IPs of a subnet that in-flight binds and creates have not already spoken for. */
export function subnetRoom(s: PoolState, subnet: string, now: Millis): number {
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

/** IPs in-flight operations will still add to `eni`: its binds, and its own create's top-up. */
function pendingOn(s: PoolState, eni: string): number {
  let n = 0;
  for (const { decision: d } of s.inflight) {
    if (d.action === "bind" && d.eni === eni) n += d.count;
    if (d.action === "create-eni" && d.eni === eni) n += d.ips;
  }
  return n;
}

/**
 * In-flight creates whose ENI is not in the pool yet. One that is (applyProgress) counts as a
 * bound ENI: busy, with its room from eniRoom.
 */
export function creatingEnis(s: PoolState): CreateEniDecision[] {
  return s.inflight.flatMap(({ decision: d }) =>
    d.action === "create-eni" && (d.eni === undefined || !s.enis.some((e) => e.id === d.eni)) ? [d] : [],
  );
}

/**
 * IPs a bound ENI can still take: up to its IP quota (in-flight binds count; none once the cloud
 * said ip-quota) and no more than its subnet has free.
 */
export function eniRoom(s: PoolState, e: EniState, now: Millis, limits: Limits): number {
  if (e.full) return 0;
  return Math.max(0, Math.min(limits.ipsPerEni - e.ips.length - pendingOn(s, e.id), subnetRoom(s, e.subnet, now)));
}

/** ENIs past a lowered maxEnisPerNode get no new IPs: the ones with the most pods are kept. */
export function growableEnis(s: PoolState, limits: Limits): EniState[] {
  const live = podEnis(s)
    .filter((e) => !e.deleting)
    .sort((a, b) => assignedOn(b) - assignedOn(a) || b.ips.length - a.ips.length || cmp(a.id, b.id));
  return live.slice(0, limits.maxEnis);
}

/**
 * Binds `need` IPs (rule 1): on the bound ENIs, then on new ENIs for what those cannot hold.
 * The room the bound ENIs will still take (busy now, or past one call's cap) is theirs: only
 * the need beyond it opens ENIs, and it opens them at once rather than after those binds, so a
 * burst on a fresh node decides every ENI it needs in its first plan. Returns the need left.
 */
function grow(s: PoolState, need: number, now: Millis, limits: Limits, emit: Emit): number {
  const filled = fillBoundEnis(s, need, now, limits, emit);
  if (filled.need <= 0) return filled.need;
  const beyond = filled.need - filled.room;
  if (beyond <= 0) return filled.need;
  return createEnis(s, beyond, now, limits, emit) + filled.room;
}

/**
 * Rule 5c: bound ENIs are filled before new ENIs take the rest. Binds toward `need` on the ENI
 * with the most assigned IPs first, so that pods crowd onto few ENIs, and reports the room they
 * will still take, 0 when every bound ENI is full (at its IP quota, or no free IP in its subnet):
 * an ENI that could take more but is busy, or whose bind was capped at ipsPerCall, is not full,
 * and its room is kept for it. Each ENI is judged right after its own bind.
 */
export function fillBoundEnis(
  s: PoolState,
  need: number,
  now: Millis,
  limits: Limits,
  emit: Emit,
): { need: number; room: number } {
  const busy = busyEnis(s);
  const bindPaused = isPaused(s, "bind", now);
  let later = 0;
  for (const e of growableEnis(s, limits)) {
    if (need <= 0) break;
    const room = eniRoom(s, e, now, limits);
    if (room <= 0) continue;
    if (!busy.has(e.id) && !bindPaused) {
      const count = Math.min(need, room, limits.ipsPerCall);
      emit({ id: newId(s), action: "bind", eni: e.id, count });
      need -= count;
    }
    later += eniRoom(s, e, now, limits);
  }
  return { need, room: later };
}

/**
 * New ENIs for a need the bound ENIs could not take. An ENI being created that asked for fewer
 * IPs than it holds takes more once attached, so that room counts first; then several Creates at
 * once when the need is more than one ENI holds (a burst on a fresh node). Each new ENI asks for
 * all the IPs it is to hold: the cloud adapter assigns those beyond the Create call's cap before
 * the attach, so the ENI arrives with every IP ready, instead of a bind after the attach (one
 * more task, and the agent's reaction, on the critical path of a burst). Never more than the
 * need: rule 1 binds up to pods + prebind.min, not past it. Returns the need left.
 */
function createEnis(s: PoolState, need: number, now: Millis, limits: Limits, emit: Emit): number {
  const creating = creatingEnis(s);
  const futureRoom = creating.reduce((n, d) => n + Math.max(0, limits.ipsPerEni - d.ips), 0);
  if (need <= futureRoom) return 0;
  if (isPaused(s, "create-eni", now)) return need - futureRoom;
  need -= futureRoom;
  let enis = podEnis(s).length + creating.length;
  while (need > 0 && enis < limits.maxEnis) {
    const subnet = subnetForNewEni(s, now);
    if (subnet === undefined) return need;
    emit({
      id: newId(s),
      action: "create-eni",
      subnet: subnet.id,
      ips: Math.min(need, limits.ipsPerEni, subnet.room),
    });
    need -= Math.min(need, limits.ipsPerEni);
    enis++;
  }
  return need;
}

/**
 * Rule 6: a new ENI goes into the listed subnet with the most available IPs (free IPs that
 * in-flight binds and creates have not spoken for; ties: the policy's order). A paused subnet or
 * one with no free IP is never chosen; undefined when no subnet has room.
 */
export function subnetForNewEni(s: PoolState, now: Millis): { id: string; room: number } | undefined {
  let best: { id: string; room: number } | undefined;
  for (const n of s.subnets) {
    const room = subnetRoom(s, n.id, now);
    if (room > 0 && (best === undefined || room > best.room)) best = { id: n.id, room };
  }
  return best;
}

/**
 * Rule 3: after the policy lowered a limit, idle IPs past it go at once, not on the release
 * timer: first on each ENI past maxEnisPerNode or above ipsPerEni (so that it shrinks or can be
 * deleted), then node-wide down to maxBindable. Returns whether the node was above maxBindable;
 * then nothing is bound this round.
 */
export function releaseAboveLimits(s: PoolState, now: Millis, limits: Limits, emit: Emit): boolean {
  releaseAboveEniLimits(s, now, limits, emit);
  const excess = pledgedCount(s) - limits.maxBindable;
  if (excess <= 0) return false;
  releaseLeastAssigned(s, excess, now, limits, emit);
  // the surplus is gone with it; the cadence of rule 2 goes on
  s.release.draining = false;
  return true;
}

function releaseAboveEniLimits(s: PoolState, now: Millis, limits: Limits, emit: Emit): void {
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
    .sort(
      (a, b) => Number(a.coolUntil > now) - Number(b.coolUntil > now) || a.coolUntil - b.coolUntil || cmp(a.ip, b.ip),
    );
}

/**
 * Rule 2: idle IPs above pods + maxPrebind go back on a steady cadence: a tick every
 * releaseInterval from the node's first plan, and at each tick, if the node is above
 * pods + maxPrebind, it releases down to it. Neither a dip of the surplus nor a bind in flight
 * moves the next tick (either would let periodic churn keep a surplus for ever); a tick that
 * finds a bind in flight waits for it to land, then decides on the counts after it. A clock
 * that jumped back by more than an interval re-anchors the cadence on now; one that jumped
 * forward gives one tick, not one per interval skipped. `counts` are those before this plan's
 * binds.
 */
export function releaseOnTimer(
  s: PoolState,
  { demand, have }: PoolCounts,
  now: Millis,
  limits: Limits,
  emit: Emit,
): void {
  const interval = s.settings.releaseIntervalMs;
  if (s.release.dueAt === null || s.release.dueAt - now > interval) s.release.dueAt = now + interval;
  if (now >= s.release.dueAt) {
    s.release.dueAt += (Math.floor((now - s.release.dueAt) / interval) + 1) * interval;
    s.release.draining = true;
  }
  if (!s.release.draining) return;
  if (s.inflight.some((op) => op.decision.action === "bind" || op.decision.action === "create-eni")) return;
  const surplus = have - Math.max(demand + s.settings.maxPrebind, s.settings.floor);
  const spare = surplus > 0 ? undefined : spareEni(s, limits, now);
  if (surplus <= 0 && spare === undefined) {
    s.release.draining = false;
    return;
  }
  if (spare === undefined) releaseLeastAssigned(s, surplus, now, limits, emit);
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
  const growable = growableEnis(s, limits).filter(
    (e) => !busy.has(e.id) && !e.full && subnetRoom(s, e.subnet, now) > 0,
  );
  const candidates = podEnis(s)
    .filter(
      (e) =>
        !e.deleting &&
        !busy.has(e.id) &&
        e.ips.length > 0 &&
        e.ips.every((slot) => slot.pod === null && !slot.releasing),
    )
    .sort((a, b) => a.ips.length - b.ips.length || cmp(a.id, b.id));
  for (const e of candidates) {
    const room = growable.reduce((n, x) => n + (x.id === e.id ? 0 : Math.max(0, limits.ipsPerEni - x.ips.length)), 0);
    if (room >= e.ips.length) return e;
  }
  return undefined;
}

/** Rule 5b: `count` idle IPs go back, from the ENI with the FEWEST assigned IPs first, so that it empties. */
export function releaseLeastAssigned(s: PoolState, count: number, now: Millis, limits: Limits, emit: Emit): void {
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
function releaseFrom(s: PoolState, e: EniState, count: number, now: Millis, limits: Limits, emit: Emit): number {
  const take = idleFirst(e, now).slice(0, Math.min(count, limits.ipsPerCall));
  if (take.length === 0) return 0;
  for (const slot of take) slot.releasing = true;
  emit({ id: newId(s), action: "release", eni: e.id, ips: take.map((slot) => slot.ip).sort(cmp) });
  return take.length;
}

/**
 * Rule 5e: an ENI whose delete failed after its detach worked (marked deleting, no operation in
 * flight) is attached nowhere: it is deleted again, after the back-off, never used. Forgetting
 * it would leak it in the cloud.
 */
export function deleteDetachedAgain(s: PoolState, now: Millis, emit: Emit): void {
  if (isPaused(s, "delete-eni", now)) return;
  const busy = busyEnis(s);
  for (const e of podEnis(s)) {
    if (!e.deleting || busy.has(e.id)) continue;
    emit({ id: newId(s), action: "delete-eni", eni: e.id });
  }
}

/** Rule 5d: an ENI with no secondary IP goes, unless IPs are still needed and it could take them. */
export function deleteEmptyEnis(s: PoolState, needMore: boolean, now: Millis, emit: Emit): void {
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
