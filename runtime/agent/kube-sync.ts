// Keeps Kubernetes informed: the Node's eni-ip extended resource follows the pool within a
// second, and warnings become rate-limited Events. It reads nothing from the API server: pods
// that are gone are found from the node itself (pod-gc.ts).
import { extendedResource, type PoolState } from "../pool/index.ts";
import type { EventType, KubePort } from "../kube/client.ts";
import type { DevicePlugin, EniIpFigures } from "../kube/device-plugin.ts";
import type { PoolDriver } from "./driver.ts";
import type { Logger } from "./log.ts";

/** Coalesce pool changes into one Node patch; the product promises the figures within 1 s. */
const PATCH_DELAY_MS = 200;
const PATCH_RETRY_MS = 5_000;
const EVENT_INTERVAL_MS = 60_000;

export interface KubeSyncDeps {
  kube: KubePort;
  node: string;
  log: Logger;
  driver: PoolDriver;
  /**
   * kubelet's device-plugin API: while registered, kubelet keeps allocatable = healthy devices =
   * bound IPs (without it, kubelet rewrites a patched allocatable to the capacity). The Node
   * status is still patched with the same figures: kubelet shows a device change only at its
   * next status update (10 s by default), and the scheduler should see new IPs at once.
   */
  devicePlugin?: DevicePlugin;
}

export interface EniIpPublisherDeps {
  kube: KubePort;
  node: string;
  log: Logger;
  /** See KubeSyncDeps.devicePlugin. */
  devicePlugin?: DevicePlugin;
  /** The figures to publish now (shared mode: the pool's; fixed mode: the node ENI's quota). */
  figures: () => EniIpFigures;
}

/**
 * tke.cloud.tencent.com/eni-ip, published both ways: to kubelet's device plugin at once, and
 * by a Node status patch that coalesces changes and is retried until it lands. Both IP modes
 * publish through it; only where the figures come from differs.
 */
export class EniIpPublisher {
  private sent = "";
  private patchTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private patching: Promise<void> = Promise.resolve();

  constructor(private readonly deps: EniIpPublisherDeps) {}

  async start(): Promise<void> {
    this.deps.devicePlugin?.update(this.deps.figures());
    await this.deps.devicePlugin?.start();
    this.changed();
  }

  /** The figures may have changed: the device plugin now, the Node within PATCH_DELAY_MS. */
  changed(): void {
    const figures = this.deps.figures();
    this.deps.devicePlugin?.update(figures);
    if (JSON.stringify(figures) === this.sent || this.patchTimer) return;
    this.patchTimer = setTimeout(() => {
      this.patchTimer = undefined;
      const now = this.deps.figures();
      const key = JSON.stringify(now);
      if (key === this.sent) return;
      this.patching = this.patching
        .then(() => this.deps.kube.setEniIpResource(this.deps.node, now))
        .then(() => {
          this.sent = key;
        })
        .catch((e: unknown) => {
          this.deps.log.warn("could not update the Node's extended resource", { error: (e as Error).message });
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.changed(), PATCH_RETRY_MS); // with the figures of then
        });
    }, PATCH_DELAY_MS);
  }

  /** Sends the last figures before shutdown. */
  async flush(): Promise<void> {
    clearTimeout(this.retryTimer);
    if (this.patchTimer) {
      clearTimeout(this.patchTimer);
      this.patchTimer = undefined;
      await this.deps.kube.setEniIpResource(this.deps.node, this.deps.figures()).catch(() => {});
    }
    await this.patching;
  }

  /** Unregisters from kubelet (its socket removed: kubelet marks the devices gone). */
  async stopDevicePlugin(): Promise<void> {
    await this.deps.devicePlugin?.stop();
  }
}

export class KubeSync {
  private readonly lastEvent = new Map<string, number>();
  private readonly eniIp: EniIpPublisher;

  constructor(private readonly deps: KubeSyncDeps) {
    this.eniIp = new EniIpPublisher({
      kube: deps.kube,
      node: deps.node,
      log: deps.log,
      devicePlugin: deps.devicePlugin,
      figures: () => extendedResource(deps.driver.state),
    });
  }

  async start(): Promise<void> {
    await this.eniIp.start();
  }

  /** After every committed pool change (the driver's state is the new one already). */
  poolChanged(_state: PoolState): void {
    this.eniIp.changed();
  }

  cloudError(kind: string, message: string): void {
    const reasons: Record<string, string> = {
      "subnet-exhausted": "SubnetExhausted",
      "eni-quota": "EniQuotaReached",
      "ip-quota": "IpQuotaReached",
      auth: "CloudAuthFailed",
    };
    const reason = reasons[kind];
    if (reason) this.event("Warning", reason, message);
  }

  exhausted(message: string): void {
    this.event("Warning", "PoolExhausted", message);
  }

  /** At most one Event per reason a minute: a burst of failing ADDs must not flood the API. */
  event(type: EventType, reason: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastEvent.get(reason) ?? 0) < EVENT_INTERVAL_MS) return;
    this.lastEvent.set(reason, now);
    this.deps.kube
      .nodeEvent(this.deps.node, type, reason, message.slice(0, 1000))
      .catch((e: unknown) => this.deps.log.warn("could not record an Event", { reason, error: (e as Error).message }));
  }

  /** Unregisters from kubelet (its socket removed: kubelet marks the devices gone). */
  async stopDevicePlugin(): Promise<void> {
    await this.eniIp.stopDevicePlugin();
  }

  /** Sends the last figures before shutdown. */
  async flush(): Promise<void> {
    await this.eniIp.flush();
  }
}
