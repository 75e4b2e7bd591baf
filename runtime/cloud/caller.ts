// One API call as the adapter makes it: the node's budget of mutating calls (agents only), the
// action's token bucket, then the SDK call, retried on throttling, InternalError, network
// errors and a busy ENI.
import { DEFAULT_NODE_BUDGET, MUTATING_ACTIONS } from "../../schema/cloud-budget.ts";
import type { Clock, Random } from "./clock.ts";
import { classify } from "./errors.ts";
import { DEFAULT_RETRY, THROTTLED_RETRY, withRetry, type RetryPolicy } from "./retry.ts";
import { TokenBucket, type Rate } from "./token-bucket.ts";

/**
 * Client-side limits per action, well under the cloud's (100/s; 20/s for the limit and task
 * queries) because every node of a cluster spends the same account quota.
 */
export const DEFAULT_RATES: Record<string, Rate> = {
  CreateNetworkInterface: { perSecond: 5, burst: 10 },
  AttachNetworkInterface: { perSecond: 5, burst: 10 },
  DetachNetworkInterface: { perSecond: 5, burst: 10 },
  DeleteNetworkInterface: { perSecond: 5, burst: 10 },
  AssignPrivateIpAddresses: { perSecond: 10, burst: 20 },
  UnassignPrivateIpAddresses: { perSecond: 10, burst: 20 },
  DescribeNetworkInterfaces: { perSecond: 20, burst: 40 },
  DescribeSubnets: { perSecond: 10, burst: 20 },
  DescribeNetworkInterfaceLimit: { perSecond: 2, burst: 5 },
  DescribeVpcTaskResult: { perSecond: 10, burst: 20 },
};

/**
 * The fixed-IP controller's limits: it is the cluster's only caller of the mutating actions in
 * fixed mode (the agents make none), so it may spend what every node's share adds up to. Below
 * TKE's own cap for its ipamd (50 requests/s per cluster) and the account's 20/s for the task
 * and limit queries, leaving room for the rest of the account.
 */
export const CONTROLLER_RATES: Record<string, Rate> = {
  CreateNetworkInterface: { perSecond: 10, burst: 20 },
  AttachNetworkInterface: { perSecond: 10, burst: 20 },
  DetachNetworkInterface: { perSecond: 10, burst: 20 },
  DeleteNetworkInterface: { perSecond: 10, burst: 20 },
  AssignPrivateIpAddresses: { perSecond: 40, burst: 40 },
  UnassignPrivateIpAddresses: { perSecond: 40, burst: 40 },
  DescribeNetworkInterfaces: { perSecond: 40, burst: 40 },
  DescribeSubnets: { perSecond: 10, burst: 20 },
  DescribeNetworkInterfaceLimit: { perSecond: 5, burst: 10 },
  DescribeVpcTaskResult: { perSecond: 15, burst: 15 },
};

/**
 * A node agent's budget of mutating calls from its policy's spec.cloud.rateLimits; unset: the
 * fair share of a 1,000-node cluster (schema/cloud-budget.ts). The fixed-IP controller passes
 * none: it is the cluster's one caller in fixed mode, paced by CONTROLLER_RATES.
 */
export function nodeBudget(limits?: { mutationsPerSecond: number; burst: number }): Rate {
  const l = limits ?? DEFAULT_NODE_BUDGET;
  return { perSecond: l.mutationsPerSecond, burst: l.burst };
}

export type CallLog = (event: string, fields: Record<string, unknown>) => void;

/** One HTTP attempt, for metrics (API latency and errors by action). `kind` is unset on success. */
export interface CallObservation {
  action: string;
  ms: number;
  code?: string;
  kind?: string;
}

export class Caller {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly budget: TokenBucket | undefined;

  constructor(
    private readonly deps: {
      clock: Clock;
      random: Random;
      retry?: Partial<RetryPolicy>;
      rates?: Record<string, Rate>;
      /** One bucket shared by the mutating actions (a node's fair share of the account); unset: none. */
      mutationBudget?: Rate;
      log?: CallLog;
      observe?: (o: CallObservation) => void;
    },
  ) {
    this.budget = deps.mutationBudget ? new TokenBucket(deps.mutationBudget, deps.clock) : undefined;
  }

  private bucket(action: string): TokenBucket {
    let b = this.buckets.get(action);
    if (!b) {
      const rate = this.deps.rates?.[action] ?? DEFAULT_RATES[action] ?? { perSecond: 5, burst: 10 };
      b = new TokenBucket(rate, this.deps.clock);
      this.buckets.set(action, b);
    }
    return b;
  }

  call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      action,
      async () => {
        // Every attempt spends the budget, retries too: the account counts them all.
        if (this.budget && MUTATING_ACTIONS.has(action)) await this.budget.take();
        await this.bucket(action).take();
        const observe = this.deps.observe;
        if (!observe) return fn();
        const started = performance.now();
        try {
          const result = await fn();
          observe({ action, ms: performance.now() - started });
          return result;
        } catch (e) {
          const err = classify(action, e);
          observe({ action, ms: performance.now() - started, code: err.code, kind: err.kind });
          throw err;
        }
      },
      {
        // `retry` overrides both policies (tests and one-shot commands shorten them).
        policy: { ...DEFAULT_RETRY, ...this.deps.retry },
        throttled: { ...THROTTLED_RETRY, ...this.deps.retry },
        clock: this.deps.clock,
        random: this.deps.random,
        onRetry: (err, attempt, delayMs) =>
          this.deps.log?.("cloud call retried", {
            action,
            kind: err.kind,
            code: err.code,
            requestId: err.requestId,
            attempt,
            delayMs: Math.round(delayMs),
          }),
      },
    );
  }
}
