// Slow loops that keep the node honest: data-plane drift repair (a deleted rule or route comes
// back within seconds), a resync with the cloud's view of the instance's ENIs, and a sweep of
// this node's ENIs that were created but never attached (a crash between create and attach).
import type { VpcCniPolicy } from "../../schema/index.ts";
import type { Subnet, VpcApi } from "../cloud/types.ts";
import type { DataPlane, DesiredState } from "../net/types.ts";
import { setSubnets, syncInventory } from "../pool/index.ts";
import type { PoolDriver } from "./driver.ts";
import type { CloudExecutor, NodeIdentity } from "./executor.ts";
import { gatewayOf } from "./executor.ts";
import { isManaged, subnetsToWatch, toInventory } from "./inventory.ts";
import type { Logger } from "./log.ts";
import type { PodActivity } from "./pod-activity.ts";
import type { AgentMetrics } from "./metrics.ts";
import type { NodeStore } from "./store.ts";
import { freeIps } from "./zones.ts";

export const REPAIR_INTERVAL_MS = 5_000;
export const RESYNC_INTERVAL_MS = 60_000;
export const LEAK_SWEEP_INTERVAL_MS = 5 * 60_000;
/** An unattached ENI younger than this may be one a create is still attaching (AWS uses 5 min too). */
export const LEAK_MIN_AGE_MS = 5 * 60_000;

export interface MaintenanceDeps {
  /** ADDs and DELs under way: the repair leaves their pods alone. */
  activity?: PodActivity;
  api: VpcApi;
  dataPlane: DataPlane;
  driver: PoolDriver;
  executor: CloudExecutor;
  store: NodeStore;
  log: Logger;
  metrics: AgentMetrics;
  identity: NodeIdentity;
  policy: () => VpcCniPolicy;
  primaryInterface: string;
  subnets: Map<string, Subnet>;
  /** Called after fresh subnet figures came in: the agent re-checks which are in its zone. */
  onSubnets?: () => void;
  /** The node is switched off and drained (switch-off.ts): no repair, no resync. */
  idle?: () => boolean;
  leakTags: Record<string, string>;
  createdAtTag: string;
}

export class Maintenance {
  private timers: ReturnType<typeof setInterval>[] = [];
  private busy = new Set<string>();

  constructor(private readonly deps: MaintenanceDeps) {}

  start(): void {
    this.every(REPAIR_INTERVAL_MS, "repair", () => this.repair());
    this.every(RESYNC_INTERVAL_MS, "resync", () => this.resync());
    this.every(LEAK_SWEEP_INTERVAL_MS, "leak-sweep", () => this.sweepLeaks());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** One loop at a time per kind; a slow pass is skipped over, never stacked. */
  private every(ms: number, name: string, fn: () => Promise<unknown>): void {
    this.timers.push(
      setInterval(() => {
        if (this.busy.has(name)) return;
        this.busy.add(name);
        fn()
          .catch((e: unknown) => this.deps.log.warn(`${name} failed`, { error: (e as Error).message }))
          .finally(() => this.busy.delete(name));
      }, ms),
    );
  }

  /** What the node should hold; pods changed since `mark` (PodActivity) are left alone. */
  desired(mark?: number): DesiredState {
    const { driver, executor, store } = this.deps;
    const netns = new Map(store.attachments().map((a) => [a.key, a.netns]));
    const leave =
      mark === undefined || !this.deps.activity
        ? undefined
        : this.deps.activity.since(mark, (key) => driver.state.pods[key]?.ip);
    const skip = new Set(leave?.keys ?? []);
    const pods: DesiredState["pods"] = [];
    for (const [key, a] of Object.entries(driver.state.pods)) {
      if (skip.has(key)) continue;
      const table = executor.links.get(a.eni)?.table;
      const ns = netns.get(key);
      if (table === undefined || ns === undefined) continue;
      const [network = "", containerId = "", ifname = ""] = key.split("/");
      pods.push({ network, containerId, ifname, netns: ns, ip: a.ip, table });
    }
    const enis = [...executor.links.values()].map((l) => {
      const eni = driver.state.enis.find((e) => e.id === l.eniId);
      const cidr = this.deps.subnets.get(eni?.subnet ?? "")?.cidr ?? "";
      return { mac: l.mac, subnetCidr: cidr, gateway: gatewayOf(cidr) };
    });
    return {
      primaryInterface: this.deps.primaryInterface,
      enis: enis.filter((e) => e.subnetCidr !== ""),
      pods,
      ...(leave ? { leaveAlone: { ips: leave.ips, veths: leave.veths } } : {}),
    };
  }

  async repair(): Promise<string[]> {
    // Drained: nothing of vpccni's may come back, not even the sysctls it put back.
    if (this.deps.idle?.()) return [];
    // what the pool wants is read after the kernel was observed, leaving alone the pods whose
    // ADD or DEL ran at any moment of the pass
    const mark = this.deps.activity?.mark() ?? 0;
    const report = await this.deps.dataPlane.repair(() => this.desired(mark));
    // A node switched on again after a switch-off: what repair sets is vpccni's change again.
    const perEni = new Set([...this.deps.executor.links.values()].map((l) => `net.ipv4.conf.${l.name}.rp_filter`));
    this.deps.store.rememberSysctls((report.sysctls ?? []).filter((c) => !perEni.has(c.key)));
    for (const line of report.fixed) {
      this.deps.metrics.repairs.inc({ kind: line.split(" ")[0] ?? "other" });
      this.deps.log.warn("data plane drift repaired", { fix: line });
    }
    return report.fixed;
  }

  /** Cloud truth replaces the pool's ENIs and IPs, but only between operations. */
  async resync(): Promise<void> {
    const { api, driver, identity } = this.deps;
    if (driver.state.inflight.length > 0 || this.deps.idle?.()) return;
    const policy = this.deps.policy();
    const enis = await api.listEnis(identity.instanceId);
    const managed = isManaged(policy, new Set(driver.state.enis.map((e) => e.id)));
    const described = await api.describeSubnets(subnetsToWatch(policy, enis.filter(managed)));
    if (driver.state.inflight.length > 0) return; // an operation started while we listed
    for (const s of described) this.deps.subnets.set(s.id, s);
    this.deps.metrics.subnets(described);
    for (const eni of enis)
      if (managed(eni) && !this.deps.executor.links.has(eni.id)) await this.deps.executor.setupLink(eni);
    const inventory = toInventory(enis, managed);
    driver.update((s) => {
      const synced = syncInventory(setSubnets(s, freeIps(described)), inventory);
      if (synced.lostPods.length > 0)
        this.deps.log.warn("the cloud no longer lists these pods' IPs", { pods: synced.lostPods });
      return synced.state;
    });
    this.deps.onSubnets?.();
  }

  /**
   * Zones and free IPs of the policy's subnets and of those the node's ENIs are in, after a
   * policy reload: a newly listed subnet is usable at once, not after the next resync. Only
   * free counts change, so operations in flight do not matter.
   */
  async refreshSubnets(): Promise<void> {
    const { api, driver } = this.deps;
    const held = driver.state.enis.filter((e) => !e.primary).map((e) => e.subnet);
    const described = await api.describeSubnets([...new Set([...this.deps.policy().spec.subnets, ...held])]);
    for (const s of described) this.deps.subnets.set(s.id, s);
    this.deps.metrics.subnets(described);
    driver.update((s) => setSubnets(s, freeIps(described)));
    this.deps.onSubnets?.();
  }

  /** Deletes this node's ENIs that are attached nowhere and older than the age guard. */
  sweepLeaks(now = Date.now()): Promise<string[]> {
    return sweepLeakedEnis(this.deps.api, this.deps.leakTags, this.deps.createdAtTag, this.deps.log, now);
  }
}

/**
 * ENIs carrying all `tags` (this cluster and node) that are attached nowhere and were created
 * more than LEAK_MIN_AGE_MS ago: a create whose attach never happened (a crash in between).
 * Younger ones may be a create still on its way to the attach, so they are left alone.
 */
export async function sweepLeakedEnis(
  api: VpcApi,
  tags: Record<string, string>,
  createdAtTag: string,
  log: Logger,
  now = Date.now(),
  minAgeMs = LEAK_MIN_AGE_MS,
): Promise<string[]> {
  const found = await api.findEnis({ tags });
  const deleted: string[] = [];
  for (const eni of found) {
    const created = Date.parse(eni.tags[createdAtTag] ?? eni.createdTime);
    if (eni.attachment || Number.isNaN(created) || now - created < minAgeMs) continue;
    await api.deleteEni(eni.id);
    deleted.push(eni.id);
    log.warn("deleted a leaked ENI", { eni: eni.id, created: new Date(created).toISOString() });
  }
  return deleted;
}
