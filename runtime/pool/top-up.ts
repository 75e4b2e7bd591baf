// A new ENI's top-up: once attached, it takes in the same operation the IPs that pods asked for
// while it was being made. Without it those pods wait for the operation to end, a plan pass, and
// then one bind per call of 10 IPs, each its own operation: on a burst's critical path that was
// about 60 ms per bind between the tasks (docs/pool.md "Bursts"). The top-up asks only for rule
// 1's need that the bound ENIs cannot take (rule 5c), never past the new ENI's quota nor its
// subnet's free IPs, and it is pledged (the in-flight create's `ips` grows) before the call, so
// that no plan pass binds the same need elsewhere meanwhile.
import { isDraining } from "./drain.ts";
import { bindNeed, countsOf, eniRoom, growableEnis, subnetRoom } from "./plan.ts";
import { limitsOf } from "./settings.ts";
import { addNewEniIps, newIps } from "./apply-result.ts";
import { cloneState, isPaused } from "./state.ts";
import type { CreateEniDecision, Millis, PoolState } from "./types.ts";

/**
 * How many more IPs the ENI that in-flight create `opId` made should bind now that it is
 * attached, and the state with them pledged to it. 0 (and the same state) when none: the pool is
 * switched off, binds are paused, the bound ENIs can take the need, or there is none.
 */
export function topUpNewEni(state: PoolState, opId: string, now: Millis): { state: PoolState; extra: number } {
  const op = state.inflight.find((o) => o.decision.id === opId);
  const d = op?.decision;
  if (d?.action !== "create-eni" || isDraining(state) || isPaused(state, "bind", now)) return { state, extra: 0 };
  const limits = limitsOf(state);
  const need = bindNeed(state, countsOf(state), now, limits);
  // Rule 5c: what the bound ENIs will still take is theirs, busy ones included. This ENI is among
  // them only after a restart replays its operation (its IPs came in before the crash).
  let bound = 0;
  for (const e of growableEnis(state, limits)) if (e.id !== d.eni) bound += eniRoom(state, e, now, limits);
  const has = d.eni === undefined ? 0 : (state.enis.find((e) => e.id === d.eni)?.ips.length ?? 0);
  const extra = Math.max(0, Math.min(need - bound, limits.ipsPerEni - d.ips - has, subnetRoom(state, d.subnet, now)));
  if (extra === 0) return { state, extra: 0 };
  const s = cloneState(state);
  changeCreate(s, opId, (c) => ({ ...c, ips: c.ips + extra }));
  return { state: s, extra };
}

/** The in-flight create `opId` of `s` (a clone) replaced by `change` of it. */
function changeCreate(s: PoolState, opId: string, change: (d: CreateEniDecision) => CreateEniDecision): void {
  for (const o of s.inflight)
    if (o.decision.id === opId && o.decision.action === "create-eni") o.decision = change(o.decision);
}

/**
 * The new ENI's IPs that the cloud has bound so far, in the pool while its create operation goes
 * on: once attached and its link set up, its first IPs serve pods while the top-up's later calls
 * run, instead of all of them at the operation's end. The ENI counts as busy (no other call on
 * it meanwhile), and the create's `ips` keeps only what is still to come, so that what is
 * bound plus what is pledged stays the same. The operation's answer later adds what is not in
 * yet (applyResult merges). The same state when nothing is new; throws, as applyResult does,
 * when an IP is on another ENI.
 */
export function applyProgress(state: PoolState, opId: string, eni: string, ips: string[]): PoolState {
  const op = state.inflight.find((o) => o.decision.id === opId);
  const d = op?.decision;
  if (d?.action !== "create-eni") return state;
  if (d.eni !== undefined && d.eni !== eni)
    throw new Error(`applyProgress ${opId}: the operation made ${d.eni}, not ${eni}`);
  const s = cloneState(state);
  const fresh = newIps(s, d, eni, ips);
  if (fresh.length === 0 && d.eni === eni && s.enis.some((e) => e.id === eni)) return state;
  addNewEniIps(s, d, eni, fresh);
  changeCreate(s, opId, (c) => ({ ...c, eni, ips: Math.max(0, c.ips - fresh.length) }));
  return s;
}
