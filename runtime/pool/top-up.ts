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
import { cloneState, isPaused } from "./state.ts";
import type { Millis, PoolState } from "./types.ts";

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
  // Rule 5c: what the bound ENIs will still take is theirs, busy ones included.
  let bound = 0;
  for (const e of growableEnis(state, limits)) bound += eniRoom(state, e, now, limits);
  const extra = Math.max(0, Math.min(need - bound, limits.ipsPerEni - d.ips, subnetRoom(state, d.subnet, now)));
  if (extra === 0) return { state, extra: 0 };
  const s = cloneState(state);
  for (const o of s.inflight)
    if (o.decision.id === opId && o.decision.action === "create-eni")
      o.decision = { ...o.decision, ips: o.decision.ips + extra };
  return { state: s, extra };
}
