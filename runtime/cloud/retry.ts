// Retries of one API call: only on throttling, InternalError / network errors and a busy ENI,
// with capped exponential backoff and jitter (half fixed, half random, so retries of many
// nodes spread out but never collapse to zero delay).
import type { Clock, Random } from "./clock.ts";
import { classify, type CloudError } from "./errors.ts";

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 100, maxMs: 5_000 };

export function backoffMs(policy: RetryPolicy, failures: number, random: Random): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return cap / 2 + random() * (cap / 2);
}

export async function withRetry<T>(
  action: string,
  fn: () => Promise<T>,
  deps: {
    policy: RetryPolicy;
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
      if (!err.retryable || attempt >= deps.policy.attempts) throw err;
      const delay = backoffMs(deps.policy, attempt, deps.random);
      deps.onRetry?.(err, attempt, delay);
      await deps.clock.sleep(delay);
    }
  }
}
