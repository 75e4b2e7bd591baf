// How an agent retries a throttled call (RequestLimitExceeded), as compared in `simulate --fleet`.
// Each strategy answers, after the n-th throttled attempt of one call, how long to wait before
// the next one, or null to give up (the pool engine then backs the whole decision off).
// "jitter" is what the agent does (runtime/cloud/retry.ts and caller.ts): the same constants
// and delay function, imported from schema/cloud-budget.ts, where both may reach them.
import { DEFAULT_NODE_BUDGET, fullJitterMs, THROTTLED_RETRY } from "../schema/cloud-budget.ts";
import type { Rng } from "../runtime/pool/index.ts";

export type RetryStrategyName = "naive" | "previous" | "jitter" | "aws" | "coordinator";
export const RETRY_STRATEGIES: readonly RetryStrategyName[] = ["naive", "previous", "jitter", "aws", "coordinator"];

export interface RetryStrategy {
  name: RetryStrategyName;
  /** Delay before the next attempt after `failures` throttled ones, or null to give up. */
  delayMs(failures: number, rng: Rng): number | null;
  /** Per-node budget of mutating calls (calls per second, burst), or none. */
  nodeBudget?: { perSecond: number; burst: number };
  /** AWS SDK retry quota: tokens a node holds, spent per throttled retry, refunded on success. */
  retryQuota?: { capacity: number; cost: number; refund: number };
  /**
   * An ideal cluster-wide coordinator: every call waits for a slot of the account's own limit,
   * handed out first come first served across the fleet (the limit divided among the nodes that
   * need calls at each moment), so none is refused. A bound, not a design.
   */
  coordinated?: boolean;
}

/** A node budget as the policy states it (spec.cloud.rateLimits; unset: the default share). */
export interface NodeRateLimits {
  mutationsPerSecond: number;
  burst: number;
}

const jitter = (n: number, rng: Rng) =>
  n >= THROTTLED_RETRY.attempts ? null : fullJitterMs(THROTTLED_RETRY.baseMs, THROTTLED_RETRY.maxMs, n, rng);

export function retryStrategy(name: RetryStrategyName, budget: NodeRateLimits = DEFAULT_NODE_BUDGET): RetryStrategy {
  switch (name) {
    // Retry at once (100 ms), forever: what a loop without back-off does.
    case "naive":
      return { name, delayMs: () => 100 };
    // The agent's retry before full jitter: 6 attempts, 100 ms x 2^n capped at 5 s, equal jitter.
    case "previous":
      return {
        name,
        delayMs: (n, rng) => {
          if (n >= 6) return null;
          const cap = Math.min(5_000, 100 * 2 ** (n - 1));
          return cap / 2 + rng() * (cap / 2);
        },
      };
    // The agent now: capped exponential back-off with full jitter (base 1 s, cap 60 s, 8
    // attempts) and the per-node budget of mutating calls.
    case "jitter":
      return {
        name,
        delayMs: jitter,
        nodeBudget: { perSecond: budget.mutationsPerSecond, burst: budget.burst },
      };
    // The AWS SDK's standard mode: 3 attempts, full jitter (base 100 ms, cap 20 s), a retry
    // quota of 500 tokens (5 per throttled retry, 1 back per success).
    case "aws":
      return {
        name,
        delayMs: (n, rng) => (n >= 3 ? null : fullJitterMs(100, 20_000, n, rng)),
        retryQuota: { capacity: 500, cost: 5, refund: 1 },
      };
    // What if: the controller hands out the account's limits (not built; docs/fleet.md).
    case "coordinator":
      return { name, delayMs: jitter, coordinated: true };
  }
}
