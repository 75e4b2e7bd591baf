// The fixed-IP controller's heartbeat: while this replica leads, a pass (fixed-pass.ts) runs every
// `intervalMs`, and at once when the leadership arrives or someone kicks it. Passes never overlap;
// a failed pass is logged and the next one starts over from the objects.
import { Conflict } from "../kube/fixed-client.ts";
import type { FixedPass, PassReport } from "./fixed-pass.ts";

export interface FixedLoopOptions {
  pass: FixedPass;
  leader: () => boolean;
  intervalMs: number;
  /** Changes that should start a pass at once (FixedKubePort.watchChanges); absent: the timer only. */
  watch?: (onChange: () => void) => () => void;
  log: {
    warn(msg: string, fields?: Record<string, unknown>): void;
    debug?(msg: string, fields?: Record<string, unknown>): void;
  };
}

export class FixedLoop {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> = Promise.resolve();
  private queued = false;
  /** Completed passes and the last one's report (tests and /readyz read them). */
  passes = 0;
  last: PassReport | null = null;
  lastError: string | null = null;

  constructor(private readonly opts: FixedLoopOptions) {}

  private unwatch: (() => void) | undefined;
  private stopped = false;
  private debounce: ReturnType<typeof setTimeout> | undefined;

  start(): void {
    this.timer = setInterval(() => void this.kick(), this.opts.intervalMs);
    // a change seen on a watch starts a pass within 100 ms (a burst of changes makes one pass)
    this.unwatch = this.opts.watch?.(() => {
      if (this.debounce || !this.opts.leader()) return;
      this.debounce = setTimeout(() => {
        this.debounce = undefined;
        void this.kick();
      }, 100);
    });
  }

  /** A pass soon (coalesced with one already waiting). */
  kick(): Promise<void> {
    if (this.queued || this.stopped) return this.running;
    this.queued = true;
    this.running = this.running.then(async () => {
      this.queued = false;
      if (!this.opts.leader()) return;
      try {
        this.last = await this.opts.pass.run();
        this.lastError = null;
      } catch (e) {
        this.lastError = (e as Error).message;
        // a lost race is expected now and then; anything else deserves a warning
        if (e instanceof Conflict)
          this.opts.log.debug?.("fixed IP pass lost a race; redone next pass", { error: this.lastError });
        else this.opts.log.warn("fixed IP pass failed; the next pass carries on", { error: this.lastError });
      }
      this.passes++;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.unwatch?.();
    await this.running;
  }
}
