// The pool engine's public surface. The node agent, the simulator and the tests import from here.
export * from "./types.ts";
export { allocate, idleCount, release, WAITING_TTL_MS } from "./allocate.ts";
export { plan, type PlanResult } from "./plan.ts";
export { applyProgress, topUpNewEni } from "./top-up.ts";
export { drained, drainPool, isDraining } from "./drain.ts";
export {
  applyResult,
  type ApplyOptions,
  AUTH_PAUSE_MS,
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  ENI_QUOTA_PAUSE_MS,
  SUBNET_PAUSE_MS,
} from "./apply-result.ts";
export { extendedResource, summary, type PoolSummary } from "./summary.ts";
export { nextWakeAt } from "./next-wake.ts";
export { limitsOf, settingsFromPolicy, type Limits } from "./settings.ts";
export {
  createState,
  podKey,
  setQuota,
  setSettings,
  setSubnets,
  syncInventory,
  type CreateStateInput,
} from "./state.ts";
export { seededRng } from "./rng.ts";
export { parseState, serializeState } from "./persist.ts";
