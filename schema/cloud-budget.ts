// How an agent spends the account's VPC API budget: the retry of a throttled call and the
// node's own budget of mutating calls. Pure constants and one function, here because both the
// agent's adapter (runtime/cloud) and the fleet simulator (simulator/) import them, and the
// import rules let both reach schema/ but not each other: the simulation compares what the
// agent really does.

/**
 * Retry of RequestLimitExceeded: capped exponential back-off with full jitter, base 1 s, cap
 * 60 s, 8 attempts in all (the best strategy of `vpccni simulate --fleet`, docs/fleet.md).
 */
export const THROTTLED_RETRY = { attempts: 8, baseMs: 1_000, maxMs: 60_000 } as const;

/** Full jitter (AWS architecture blog, 2015): uniform in [0, min(cap, base x 2^(n-1))). */
export function fullJitterMs(baseMs: number, maxMs: number, failures: number, random: () => number): number {
  return random() * Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

/**
 * A node's default budget of mutating calls (Create, Attach, Detach, Delete, Assign, Unassign
 * together): the fair share that keeps a 1,000-node cluster at 100 calls/s, the account's
 * Assign limit, with a burst that covers a new node's first pods (a prebind of 5 and 50 pods
 * take 6 Assign calls, plus a few ENIs). spec.cloud.rateLimits overrides it.
 */
export const DEFAULT_NODE_BUDGET = { mutationsPerSecond: 0.1, burst: 20 } as const;

/** The actions the node budget counts: the ones that change the VPC. */
export const MUTATING_ACTIONS: ReadonlySet<string> = new Set([
  "CreateNetworkInterface",
  "AttachNetworkInterface",
  "DetachNetworkInterface",
  "DeleteNetworkInterface",
  "AssignPrivateIpAddresses",
  "UnassignPrivateIpAddresses",
]);
