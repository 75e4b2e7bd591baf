// How an agent retries a throttled call (RequestLimitExceeded), as compared in `simulate --fleet`.
// Each strategy answers, after the n-th throttled attempt of one call, how long to wait before
// the next one, or null to give up (the pool engine then backs the whole decision off).
import type { Rng } from "../runtime/pool/index.ts";

export type RetryStrategyName = "naive" | "current" | "jitter" | "aws";
export const RETRY_STRATEGIES: readonly RetryStrategyName[] = ["naive", "current", "jitter", "aws"];

export interface RetryStrategy {
  name: RetryStrategyName;
  /** Delay before the next attempt after `failures` throttled ones, or null to give up. */
  delayMs(failures: number, rng: Rng): number | null;
  /** Per-node budget of mutating calls (calls per second, burst), or none. */
  nodeBudget?: { perSecond: number; burst: number };
  /** AWS SDK retry quota: tokens a node holds, spent per throttled retry, refunded on success. */
  retryQuota?: { capacity: number; cost: number; refund: number };
}

/** Full jitter: uniform in [0, min(cap, base x 2^(n-1))) (AWS architecture blog, 2015). */
function fullJitter(base: number, cap: number, failures: number, rng: Rng): number {
  return rng() * Math.min(cap, base * 2 ** (failures - 1));
}

/**
 * The per-node budget of the "jitter" strategy: a fair share of the account limit that keeps a
 * 1,000-node cluster under 100 Assign calls/s (0.1/s each), with a burst that covers a new
 * node's first pods (prebind 5 + 50 pods = 6 Assign calls, plus a few ENIs).
 */
export const NODE_BUDGET = { perSecond: 0.1, burst: 20 };

export function retryStrategy(name: RetryStrategyName): RetryStrategy {
  switch (name) {
    // Retry at once (100 ms), forever: what a loop without back-off does.
    case "naive":
      return { name, delayMs: () => 100 };
    // runtime/cloud/retry.ts today: 6 attempts, 100 ms x 2^n capped at 5 s, equal jitter.
    case "current":
      return {
        name,
        delayMs: (n, rng) => {
          if (n >= 6) return null;
          const cap = Math.min(5_000, 100 * 2 ** (n - 1));
          return cap / 2 + rng() * (cap / 2);
        },
      };
    // Capped exponential back-off with full jitter (base 1 s, cap 60 s, 8 attempts) and the
    // per-node budget.
    case "jitter":
      return {
        name,
        delayMs: (n, rng) => (n >= 8 ? null : fullJitter(1_000, 60_000, n, rng)),
        nodeBudget: NODE_BUDGET,
      };
    // The AWS SDK's standard mode: 3 attempts, full jitter (base 100 ms, cap 20 s), a retry
    // quota of 500 tokens (5 per throttled retry, 1 back per success).
    case "aws":
      return {
        name,
        delayMs: (n, rng) => (n >= 3 ? null : fullJitter(100, 20_000, n, rng)),
        retryQuota: { capacity: 500, cost: 5, refund: 1 },
      };
  }
}
