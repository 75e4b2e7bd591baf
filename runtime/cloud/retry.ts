// Retries of one API call: only on throttling, InternalError / network errors and a busy ENI.
// Throttling (RequestLimitExceeded) is the account's budget running out for every node at
// once, so it waits long, with full jitter (anywhere from 0 to the cap), which spreads the
// fleet's retries best (`vpccni simulate --fleet`, docs/fleet.md). The other kinds fail one
// call, not the fleet: short capped backoff with equal jitter (half fixed, half random).
import { fullJitterMs, THROTTLED_RETRY as THROTTLED } from "../../schema/cloud-budget.ts";
import type { Clock, Random } from "./clock.ts";
import { classify, type CloudError } from "./errors.ts";

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** "equal" (default): half the capped delay fixed, half random. "full": all of it random. */
  jitter?: "equal" | "full";
}

/** Transient errors and a busy ENI. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 100, maxMs: 5_000 };
/** Throttling: the simulator's chosen constants (schema/cloud-budget.ts), full jitter. */
export const THROTTLED_RETRY: RetryPolicy = { ...THROTTLED, jitter: "full" };

export function backoffMs(policy: RetryPolicy, failures: number, random: Random): number {
  if (policy.jitter === "full") return fullJitterMs(policy.baseMs, policy.maxMs, failures, random);
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return cap / 2 + random() * (cap / 2);
}

export async function withRetry<T>(
  action: string,
  fn: () => Promise<T>,
  deps: {
    policy: RetryPolicy;
    /** The policy for throttled errors; unset: `policy`. */
    throttled?: RetryPolicy;
    clock: Clock;
    random: Random;
    onRetry?: (err: CloudError, attempt: number, delayMs: number) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = classify(action, e);
      const policy = err.kind === "throttled" ? (deps.throttled ?? deps.policy) : deps.policy;
      if (!err.retryable || attempt >= policy.attempts) throw err;
      const delay = backoffMs(policy, attempt, deps.random);
      deps.onRetry?.(err, attempt, delay);
      await deps.clock.sleep(delay);
    }
  }
}
