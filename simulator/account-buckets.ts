// The account's API rate limits as the cloud enforces them: one token bucket per action, shared
// by every node, on virtual time (burst = the rate, as the emulator does). Pure: time in, answer out.

/**
 * Documented default requests per second per action and account (VPC API reference,
 * document/api/215/<page>; the Chinese pages: Attach and Detach 50/s). Same figures as the
 * emulator's DEFAULT_RATE_LIMITS, repeated because the simulator may not import the emulator.
 */
export const ACCOUNT_RATE_LIMITS: Readonly<Record<string, number>> = {
  AssignPrivateIpAddresses: 100,
  UnassignPrivateIpAddresses: 100,
  CreateNetworkInterface: 100,
  DeleteNetworkInterface: 100,
  AttachNetworkInterface: 50,
  DetachNetworkInterface: 50,
  DescribeVpcTaskResult: 20,
  DescribeNetworkInterfaceLimit: 20,
};

/**
 * A token bucket written as GCRA (the theoretical arrival time of the next call): exact on
 * integer milliseconds, where adding up fractions of a token drifts. `burst` calls may come at
 * once, then one every 1000 / rate ms.
 */
class Gcra {
  private tat = 0;
  private readonly interval: number;
  private readonly tolerance: number;

  constructor(rate: number, burst: number) {
    this.interval = 1000 / rate;
    this.tolerance = (burst - 1) * this.interval;
  }

  /** The earliest time >= nowMs at which the next call conforms. */
  conformsAt(nowMs: number): number {
    return Math.max(nowMs, this.tat - this.tolerance);
  }

  /** Spends the next token at `atMs` (which must conform). */
  spend(atMs: number): void {
    this.tat = Math.max(this.tat, atMs) + this.interval;
  }
}

export class AccountBuckets {
  private readonly buckets = new Map<string, Gcra>();

  /** `rates` overrides ACCOUNT_RATE_LIMITS per action; 0 lifts an action's limit. */
  constructor(rates: Readonly<Record<string, number>> = {}) {
    for (const [action, rate] of Object.entries({ ...ACCOUNT_RATE_LIMITS, ...rates })) {
      if (!(rate >= 0)) throw new Error(`rate of ${action} (${rate}) must be a number of calls per second >= 0`);
      if (rate > 0) this.buckets.set(action, new Gcra(rate, Math.max(1, rate)));
    }
  }

  /** Takes a token of `action` at `nowMs` if there is one; false means RequestLimitExceeded. */
  take(action: string, nowMs: number): boolean {
    const b = this.buckets.get(action);
    if (b === undefined) return true;
    if (b.conformsAt(nowMs) > nowMs) return false;
    b.spend(nowMs);
    return true;
  }
}

/** A node's own budget: the same bucket, but it answers how long to wait instead of refusing. */
export class WaitingBucket {
  private readonly gcra: Gcra;

  constructor(rate: number, burst: number) {
    this.gcra = new Gcra(rate, burst);
  }

  /** Reserves the next token; returns the time at which it may be spent (>= nowMs). */
  reserve(nowMs: number): number {
    const at = this.gcra.conformsAt(nowMs);
    this.gcra.spend(at);
    return at;
  }
}
