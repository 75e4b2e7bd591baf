// Frees the IPs of pods that are gone without a DEL (the agent was down, the node rebooted, a
// runtime that lost the DEL): every interval it looks at each attachment's recorded netns path
// and frees the attachments gone-pods.ts judges gone. It asks the Kubernetes API nothing, so
// it needs no right to read pods, and runs with --no-kube too. CNI GC (the runtime's list of
// valid attachments, cni-api.ts) frees the same where a runtime sends it.
import { statSync } from "node:fs";
import type { DataPlane } from "../net/types.ts";
import type { PoolDriver } from "./driver.ts";
import { gonePods, type NetnsPresence, netnsAnchor } from "./gone-pods.ts";
import type { Logger } from "./log.ts";
import type { PodActivity } from "./pod-activity.ts";
import { type NodeStore, StoreFaultError } from "./store.ts";

export const POD_GC_INTERVAL_MS = 30_000;

export interface PodGcDeps {
  store: NodeStore;
  driver: PoolDriver;
  dataPlane: DataPlane;
  log: Logger;
  /** Between passes (--pod-gc-interval); a netns must be seen absent at two passes. */
  intervalMs: number;
  /** No attachment younger than this is freed: the plugin's timeout, so no ADD is in flight. */
  graceMs: number;
  now?: () => number;
  /** What the node shows of a netns path (tests inject; default: the file system). */
  probe?: (path: string) => NetnsPresence;
  /** Unwiring under way, for the data-plane repair (pod-activity.ts). */
  activity?: PodActivity;
}

/** A netns path as the agent sees it: present, absent (and its folder visible), or unknown. */
export function probeNetns(path: string): NetnsPresence {
  const anchor = netnsAnchor(path);
  if (anchor === null || !exists(anchor)) return "unknown";
  try {
    statSync(path);
    return "present";
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "absent" : "unknown";
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export class PodGc {
  private suspects = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<string[]> | undefined;

  constructor(private readonly deps: PodGcDeps) {}

  start(): void {
    void this.collect();
    this.timer = setInterval(() => void this.collect(), this.deps.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass (never two at once); the keys it freed. */
  collect(): Promise<string[]> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<string[]> {
    const { store, driver, dataPlane, log } = this.deps;
    const probe = this.deps.probe ?? probeNetns;
    const attachments = store.attachments();
    const presence: Record<string, NetnsPresence> = {};
    for (const a of attachments) presence[a.netns] ??= probe(a.netns);
    const decision = gonePods({
      attachments,
      presence,
      suspects: this.suspects,
      now: (this.deps.now ?? Date.now)(),
      graceMs: this.deps.graceMs,
      // two passes: the second comes one interval later (half of it, against timer jitter)
      confirmMs: this.deps.intervalMs / 2,
    });
    this.suspects = decision.suspects;
    const freed: string[] = [];
    for (const key of decision.free) {
      const a = attachments.find((x) => x.key === key)!;
      const ip = driver.state.pods[key]?.ip;
      const [network = "", containerId = "", ifname = ""] = key.split("/");
      this.deps.activity?.begin(key, ip);
      try {
        try {
          // Unwire before the IP goes back (never wired twice); the data plane finds the table.
          await dataPlane.unwirePod({ network, containerId, ifname }, ip);
        } catch (error) {
          log.warn("could not unwire a pod that is gone; retried at the next pass", {
            key,
            error: (error as Error).message,
          });
          this.suspects.set(key, 0); // confirmed gone already
          continue;
        }
        try {
          store.atomically(() => {
            driver.release(key);
            store.deleteAttachment(key);
          });
        } catch (error) {
          // The store's disk fails (store-health.ts reports it): the IP stays until the next pass.
          if (!(error instanceof StoreFaultError)) throw error;
          continue;
        }
        freed.push(key);
        log.info("freed the IP of a pod that is gone: its netns no longer exists", {
          key,
          pod: `${a.namespace ?? "?"}/${a.name ?? "?"}`,
          netns: a.netns,
          ip,
        });
      } finally {
        this.deps.activity?.end(key, ip);
      }
    }
    return freed;
  }
}
