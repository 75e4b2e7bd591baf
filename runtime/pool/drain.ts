// Switching off (policy spec.enabled: false): the pool stops serving new pods and empties
// itself. Pods already running keep their IPs; every other IP goes back to the VPC at once, not
// on the release timer, and every ENI left without an IP is deleted. Once the last pod's IP is
// back, the node holds nothing: drained() is then true and the agent removes the rest of vpccni
// from the node (runtime/agent/switch-off.ts).
import { busyEnis, cmp, isPaused, podEnis } from "./state.ts";
import type { Emit } from "./plan.ts";
import type { Millis, PoolState } from "./types.ts";

/** The policy switched vpccni off on this node (settingsFromPolicy: spec.enabled false). */
export function isDraining(s: Pick<PoolState, "settings">): boolean {
  return s.settings.draining === true;
}

/**
 * The switch-off rule, in place of rules 1 to 6: no bind, no new ENI; every idle IP (cooling
 * ones too: no pod will take them) is released, one Unassign of up to ipsPerCall per ENI and
 * pass; an ENI with no secondary IP left is detached and deleted. Waiting pods are forgotten:
 * their ADD is refused anyway. Pauses and back-offs after cloud errors hold as usual.
 */
export function drainPool(s: PoolState, now: Millis, emit: Emit): void {
  s.waiting = {};
  s.release = { dueAt: null, draining: false };
  const busy = busyEnis(s);
  const releasePaused = isPaused(s, "release", now);
  const deletePaused = isPaused(s, "delete-eni", now);
  for (const e of podEnis(s)) {
    if (e.deleting || busy.has(e.id)) continue;
    if (e.ips.length === 0) {
      if (deletePaused) continue;
      e.deleting = true;
      emit({ id: `op-${s.nextOpSeq++}`, action: "delete-eni", eni: e.id });
      continue;
    }
    if (releasePaused) continue;
    const idle = e.ips.filter((slot) => slot.pod === null && !slot.releasing).slice(0, s.quota.ipsPerCall);
    if (idle.length === 0) continue;
    for (const slot of idle) slot.releasing = true;
    emit({ id: `op-${s.nextOpSeq++}`, action: "release", eni: e.id, ips: idle.map((slot) => slot.ip).sort(cmp) });
  }
}

/**
 * A draining pool that holds nothing any more: no pod, no secondary ENI (so no secondary IP)
 * and no cloud operation in flight. Then the node's cloud side is clean.
 */
export function drained(s: PoolState): boolean {
  return isDraining(s) && Object.keys(s.pods).length === 0 && s.inflight.length === 0 && podEnis(s).length === 0;
}
