// Read-only figures of a state: the Node's extended resource (rule 7) and a summary for metrics
// and the simulator.
import { idleCount } from "./allocate.ts";
import { limitsOf } from "./settings.ts";
import { boundCount, pendingBindCount, podEnis } from "./state.ts";
import type { ExtendedResource, Millis, PoolState } from "./types.ts";

/**
 * tke.cloud.tencent.com/eni-ip: Allocatable = IPs actually bound (not being released), Capacity =
 * maxBindable. While switched off, Allocatable is 0: no new pod may get an IP here, so the
 * scheduler places none (pods already running keep theirs).
 */
export function extendedResource(state: PoolState): ExtendedResource {
  return {
    allocatable: state.settings.draining === true ? 0 : boundCount(state),
    capacity: limitsOf(state).maxBindable,
  };
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
