// Client-side rate limit per action, so that a node never causes a throttling storm itself.
import type { Clock } from "./clock.ts";

export interface Rate {
  perSecond: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: Rate,
    private readonly clock: Clock,
  ) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1))
      throw new Error(`rate ${JSON.stringify(rate)}: perSecond must be > 0 and burst >= 1`);
    this.tokens = rate.burst;
    this.at = clock.now();
  }

  /** Waits (through the clock's sleep) until a token is free, then takes it. */
  async take(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.at) / 1000) * this.rate.perSecond);
      this.at = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.rate.perSecond) * 1000));
    }
  }
}
