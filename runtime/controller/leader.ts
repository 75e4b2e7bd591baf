// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does: the holder
// renews every `renewMs`; another replica takes the Lease over once it has not been renewed for
// `leaseMs`. Every write carries the resourceVersion it read, so two replicas can never both
// believe they won. A leader that cannot renew for two thirds of `leaseMs` steps down on its own,
// before a standby may take over.
import type { LeasePort } from "../kube/controller-client.ts";

export interface LeaderOptions {
  kube: LeasePort;
  namespace: string;
  name: string;
  identity: string;
  leaseMs?: number;
  renewMs?: number;
  now?: () => number;
  log: {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
  };
  onChange?: (leader: boolean) => void;
}

export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly opts: LeaderOptions) {}

  get leader(): boolean {
    return this.leading;
  }

  private get leaseMs(): number {
    return this.opts.leaseMs ?? 12_000;
  }

  /**
   * A leader that could not renew for this long steps down: two thirds of the lease, so it has
   * stopped before a standby may take the lease over (client-go's renewDeadline < leaseDuration).
   */
  private get renewDeadlineMs(): number {
    return Math.floor((this.leaseMs * 2) / 3);
  }

  start(): Promise<void> {
    // every 2 s: a standby takes over at most lease + 2 s after the leader's last renewal (14 s)
    this.timer = setInterval(() => void this.tick(), this.opts.renewMs ?? 2_000);
    return this.tick();
  }

  /** One round: create, renew or take over the Lease when allowed. */
  tick(): Promise<void> {
    this.running = this.running.then(() => this.round()).catch(() => {});
    return this.running;
  }

  private set(leader: boolean): void {
    if (leader === this.leading) return;
    this.leading = leader;
    this.opts.log.info(leader ? "became the leader" : "is no longer the leader", {
      lease: `${this.opts.namespace}/${this.opts.name}`,
      identity: this.opts.identity,
    });
    this.opts.onChange?.(leader);
  }

  private async round(): Promise<void> {
    const { kube, namespace, name, identity } = this.opts;
    const now = (this.opts.now ?? Date.now)();
    try {
      const lease = await kube.getLease(namespace, name);
      let won: boolean;
      if (lease === null) won = await kube.createLease(namespace, name, identity, this.leaseMs, now);
      else if (lease.holder === identity || lease.holder === "" || now - lease.renewedAt > lease.durationMs)
        won = await kube.updateLease(namespace, name, identity, this.leaseMs, now, lease.resourceVersion);
      else won = false;
      if (won) this.lastRenew = now;
      // a conflict while leading: the next round reads again; step down only when the lease ran out
      this.set(won || (this.leading && now - this.lastRenew < this.renewDeadlineMs));
    } catch (e) {
      this.opts.log.warn("leader election round failed", { error: (e as Error).message });
      if (this.leading && now - this.lastRenew >= this.renewDeadlineMs) this.set(false);
    }
  }

  /** Stops renewing and hands the Lease back, so a standby takes over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    if (!this.leading) return;
    const { kube, namespace, name } = this.opts;
    const lease = await kube.getLease(namespace, name).catch(() => null);
    if (lease?.holder === this.opts.identity)
      await kube.updateLease(namespace, name, "", this.leaseMs, 0, lease.resourceVersion).catch(() => false);
    this.set(false);
  }
}
