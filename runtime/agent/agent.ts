// The node agent: the composition root. It reads the policy, finds out which instance it runs
// on, reconciles what it remembers with the cloud, the kernel and Kubernetes, then serves the
// CNI plugin and keeps the pool, the data plane and the Node's extended resource current.
// That is shared IP mode; with spec.ipMode fixed it hands the node to FixedAgent (fixed-agent.ts).
import { dirname, join } from "node:path";
import type { VpcCniPolicy } from "../../schema/index.ts";
import { TAG_CLUSTER, TAG_CREATED_AT, TAG_NODE } from "../cloud/tencent.ts";
import type { Eni, Subnet, VpcApi } from "../cloud/types.ts";
import type { DataPlane } from "../net/types.ts";
import {
  createState,
  type PoolSettings,
  type PoolState,
  type Quota,
  setQuota,
  setSettings,
  setSubnets,
  settingsFromPolicy,
  summary,
  syncInventory,
} from "../pool/index.ts";
import type { KubePort } from "../kube/client.ts";
import { cniApi } from "./cni-api.ts";
import { connectNode } from "./node-setup.ts";
import { FixedAgent } from "./fixed-agent.ts";
import { PoolDriver } from "./driver.ts";
import { CloudExecutor, type NodeIdentity } from "./executor.ts";
import { type AgentServers, startServers } from "./http.ts";
import { agentNetnsRule } from "./netns-guard.ts";
import { privateDir } from "./private-dirs.ts";
import { poolView } from "./introspect.ts";
import { ADD_TIMEOUT_MS, pluginTimeoutMs } from "../../schema/cni.ts";
import { KubeSync } from "./kube-sync.ts";
import { POD_GC_INTERVAL_MS, PodGc } from "./pod-gc.ts";
import { DevicePlugin } from "../kube/device-plugin.ts";
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import type { Logger } from "./log.ts";
import { PodActivity } from "./pod-activity.ts";
import { isManaged, subnetsToWatch, toInventory } from "./inventory.ts";
import { Maintenance } from "./maintenance.ts";
import { AgentMetrics } from "./metrics.ts";
import { describeRejection, PolicyWatcher, readPolicyFile } from "./policy-file.ts";
import { NodeStore, StoreFaultError } from "./store.ts";
import { StoreHealth } from "./store-health.ts";
import { diskFault } from "./store-fault.ts";
import { ownerAnswers } from "./opt-in.ts";
import { poolDrain } from "./pool-drain.ts";
import { drainedBefore, SwitchOff } from "./switch-off.ts";
import { freeIps, noSubnetInZone, placement } from "./zones.ts";

export interface AgentOptions {
  policyFile: string;
  nodeName: string;
  stateDir: string;
  socket: string;
  /** host:port of /healthz, /readyz and /metrics; null: none. */
  listen: string | null;
  metadataUrl?: string;
  /** Folder of the mounted credentials Secret. */
  credentialsDir?: string;
  /** Cloud endpoint instead of the policy's (the demo's emulator). */
  endpoint?: string;
  /** null: run without Kubernetes (no extended resource, no Events). */
  kube: KubePort | null;
  /**
   * kubelet's device-plugin folder: eni-ip is published as a device plugin while kubelet's
   * socket is there, else by patching the Node status. undefined: always the patch.
   */
  devicePluginDir?: string;
  /**
   * The node's CNI folder (the DaemonSet mounts it): switching off removes vpccni's conflist
   * from it. undefined: the conflist is left in place (logged).
   */
  cniConfDir?: string;
  /** Folders of pod netns files (`--netns-dir`); default DEFAULT_NETNS_DIRS (netns-guard.ts). */
  netnsDirs?: string[];
  /** Node namespace the data plane acts in; undefined: the agent's own (production). */
  netns?: string;
  primaryInterface: string;
  log: Logger;
  addTimeoutMs?: number;
  /** Between two looks at the attachments' netns paths (pod-gc.ts); default 30 s. */
  podGcIntervalMs?: number;
  /** Test hooks: a VpcApi or DataPlane to use instead of the real ones. */
  api?: VpcApi;
  dataPlane?: DataPlane;
}

export class Agent {
  readonly metrics = new AgentMetrics();
  /** Fixed IP mode: the cluster controller owns the addresses; this node runs no pool (fixed-agent.ts). */
  private fixed?: FixedAgent;
  private store?: NodeStore;
  private storeHealth?: StoreHealth;
  private driver?: PoolDriver;
  private servers?: AgentServers;
  private watcher?: PolicyWatcher;
  private maintenance?: Maintenance;
  private kubeSync?: KubeSync;
  private podGc?: PodGc;
  private switchOff?: SwitchOff;
  private executor?: CloudExecutor;
  private dataPlane?: DataPlane;
  private policy?: VpcCniPolicy;
  private identity?: NodeIdentity;
  private subnetMap = new Map<string, Subnet>();
  /** Why the pool cannot grow (no policy subnet in this node's zone), or null. */
  private zoneRefusal: string | null = null;
  private placementSeen = "";
  private ready = false;

  constructor(private readonly opts: AgentOptions) {}

  async start(): Promise<void> {
    const { opts } = this;
    const log = opts.log;
    const load = await readPolicyFile(opts.policyFile);
    if (!load.ok) throw new Error(`the policy cannot be used:\n${describeRejection(load)}`);
    const policy = load.policy;
    this.policy = policy;
    if (policy.spec.ipMode === "fixed") {
      this.fixed = new FixedAgent(opts, load, this.metrics);
      return this.fixed.start();
    }

    const { instanceId, zone, primaryInterface, api, dataPlane } = await connectNode(opts, policy);
    this.dataPlane = dataPlane;

    // What the cloud says this instance has and may have. ENIs this cluster made stay managed
    // even when the policy no longer lists their subnet: their pods keep running, and the pool
    // drains them instead of forgetting them (which would cut the pods off and leak the ENIs).
    const [limits, enis] = await Promise.all([api.instanceLimits(instanceId), api.listEnis(instanceId)]);
    // What this node remembers: its ENIs stay managed whatever the policy lists now.
    const dbPath = join(opts.stateDir, "node.db");
    try {
      privateDir(opts.stateDir);
    } catch (error) {
      const fault = diskFault(error, dbPath); // a read-only or full disk: say so in one line
      throw fault ? new StoreFaultError(fault) : error;
    }
    privateDir(dirname(opts.socket));
    const store = new NodeStore(dbPath);
    this.store = store;
    // A store that cannot take a write now would lose the first decision: refuse to start.
    const fault = store.probe();
    if (fault) throw new StoreFaultError(fault);
    const storeHealth = new StoreHealth({ store, log, onRecovered: () => this.driver?.kick() });
    this.storeHealth = storeHealth;
    const saved = store.loadPool();
    const managed = isManaged(policy, new Set(saved?.enis.map((e) => e.id) ?? []));
    const subnets = await api.describeSubnets(subnetsToWatch(policy, enis.filter(managed)));
    const primary = enis.find((e) => e.primary);
    if (!primary)
      throw new Error(`instance ${instanceId} lists no primary ENI; cannot copy its security groups to new ENIs`);
    // The limits count the primary ENI and each ENI's primary IP; pods can use neither.
    const quota: Quota = {
      enis: Math.max(0, limits.enis - 1),
      ipsPerEni: Math.max(0, limits.ipsPerEni - 1),
      ipsPerCall: 10,
    };
    this.identity = { node: opts.nodeName, instanceId, zone, securityGroupIds: primary.securityGroupIds };
    const subnetMap = this.subnetMap;
    for (const s of subnets) subnetMap.set(s.id, s);
    this.metrics.subnets(subnets);
    const executor = new CloudExecutor(api, dataPlane, this.identity, () => subnetMap, log);
    this.executor = executor;

    // The kernel: sysctls, and every pod ENI's link and route table. The sysctls' values from
    // before are kept, for switching off; a node switched off and drained keeps them as they
    // were put back.
    const podEniList = enis.filter((e) => !e.primary && managed(e));
    const notHere = await setupLinks(podEniList, executor, api, instanceId, log);
    if (!drainedBefore(policy, store)) {
      const eniLinks = [...executor.links.values()].map((l) => l.name);
      const changed = await dataPlane.ensureSysctls(primaryInterface, eniLinks);
      // An ENI's own keys go with its link.
      const perEni = new Set(eniLinks.map((n) => `net.ipv4.conf.${n}.rp_filter`));
      store.rememberSysctls(changed.filter((c) => !perEni.has(c.key)));
    }

    // What this node remembers, reconciled with the cloud. The pool grows only into the
    // policy's subnets of this node's zone; ENIs elsewhere drain (zones.ts).
    const settings = this.settingsFor(policy);
    const available = freeIps(subnets);
    const inventory = toInventory(
      enis.filter((e) => !notHere.has(e.id)),
      managed,
    );
    let state: PoolState;
    if (saved) {
      const synced = syncInventory(setSubnets(setQuota(setSettings(saved, settings), quota), available), inventory);
      if (synced.lostPods.length > 0) log.warn("pods whose IP the cloud no longer lists", { pods: synced.lostPods });
      state = synced.state;
      log.info("state restored", { ...summary(state, Date.now()), journal: store.openIntents().length });
    } else {
      state = createState({ settings, quota, subnets: available, enis: inventory });
      log.info("new node state", { quota, enis: inventory.length });
    }

    const driver = new PoolDriver(state, {
      store,
      executor,
      log,
      onChange: (s) => {
        this.metrics.pool(summary(s, Date.now()));
        this.kubeSync?.poolChanged(s);
        this.switchOff?.changed();
      },
      onOperation: (decision, result, ms) => {
        this.metrics.operation(decision, result, ms);
        if (!result.ok) this.kubeSync?.cloudError(result.error.kind, result.error.message ?? "");
      },
    });
    this.driver = driver;
    store.commit(state);
    this.metrics.pool(summary(state, Date.now()));

    if (opts.kube) {
      const devicePlugin = opts.devicePluginDir
        ? new DevicePlugin({ dir: opts.devicePluginDir, resourceName: ENI_IP_RESOURCE, log })
        : undefined;
      this.kubeSync = new KubeSync({
        kube: opts.kube,
        node: opts.nodeName,
        log,
        driver,
        devicePlugin,
      });
    }
    const addTimeoutMs = opts.addTimeoutMs ?? ADD_TIMEOUT_MS;
    // ADDs, DELs and the pod GC mark the pods they wire or unwire; the repair leaves those alone
    const activity = new PodActivity();
    this.podGc = new PodGc({
      store,
      driver,
      dataPlane,
      log,
      activity,
      intervalMs: opts.podGcIntervalMs ?? POD_GC_INTERVAL_MS,
      // the plugin gives up on an ADD by then, so no ADD of an older attachment is in flight
      graceMs: pluginTimeoutMs(addTimeoutMs),
    });
    this.switchOff = new SwitchOff({
      node: opts.nodeName,
      policy: () => this.policy as VpcCniPolicy,
      drain: poolDrain({
        instanceId,
        policy: () => this.policy as VpcCniPolicy,
        driver,
        api,
        log,
        leakTags: { [TAG_CLUSTER]: policy.spec.clusterId, [TAG_NODE]: opts.nodeName },
        createdAtTag: TAG_CREATED_AT,
      }),
      store,
      dataPlane,
      kube: opts.kube,
      log,
      cniConfDir: opts.cniConfDir,
    });
    this.applyZone();
    // Read at each call: a policy reload that switches the mode applies to the next pod.
    const optIn = ownerAnswers(
      () => (this.policy as VpcCniPolicy).spec.mode,
      (reason) => {
        log.warn("mixed mode: the runtime passed no pod annotations", { reason });
        this.kubeSync?.event("Warning", "NoPodAnnotations", reason);
      },
    );
    const cni = storeHealth.guard(
      cniApi({
        activity,
        driver,
        store,
        dataPlane,
        executor,
        metrics: this.metrics,
        log,
        addTimeoutMs,
        onExhausted: (m) => this.kubeSync?.exhausted(m),
        noSubnetInZone: () => this.zoneRefusal,
        onNoSubnetInZone: (m) => this.kubeSync?.event("Warning", "NoSubnetInZone", m),
        optIn,
        switchedOff: () => this.switchOff?.refusal() ?? null,
      }),
    );
    this.servers = startServers({
      socket: opts.socket,
      listen: opts.listen,
      cni,
      metrics: this.metrics,
      ready: () => this.ready && storeHealth.reason() === null,
      notReadyReason: () => storeHealth.reason(),
      netns: agentNetnsRule(opts.netnsDirs, opts.netns),
      view: () => poolView({ ...this.view(), now: Date.now() }),
    });
    driver.start();
    this.maintenance = new Maintenance({
      activity,
      api,
      dataPlane,
      driver,
      executor,
      store,
      log,
      metrics: this.metrics,
      identity: this.identity,
      policy: () => this.policy as VpcCniPolicy,
      primaryInterface,
      subnets: subnetMap,
      onSubnets: () => this.applyZone(),
      idle: () => this.switchOff?.done ?? false,
      leakTags: { [TAG_CLUSTER]: policy.spec.clusterId, [TAG_NODE]: opts.nodeName },
      createdAtTag: TAG_CREATED_AT,
    });
    this.maintenance.start();
    await this.kubeSync?.start();
    this.podGc.start();

    this.watcher = new PolicyWatcher(opts.policyFile, load.text, {
      onPolicy: (next) => this.applyPolicy(next),
      onRejected: (rejected) => {
        this.metrics.policyReloads.inc({ result: "rejected" });
        const text = describeRejection(rejected);
        log.error("new policy rejected; the previous one stays in force", { diagnostics: text });
        this.kubeSync?.event("Warning", "PolicyRejected", text.split("\n")[0] ?? text);
      },
    });
    this.watcher.start();
    // Switched off (now or before a restart): report it, and carry the drain on.
    this.switchOff.policyApplied();
    this.ready = true;
    log.info("agent ready", { socket: opts.socket, listen: opts.listen, ...summary(driver.state, Date.now()) });
  }

  private applyPolicy(next: VpcCniPolicy): void {
    const log = this.opts.log;
    const current = this.policy as VpcCniPolicy;
    const fixed = ["region", "vpcId", "clusterId", "ipMode"] as const;
    const changed = fixed.filter((f) => JSON.stringify(next.spec[f]) !== JSON.stringify(current.spec[f]));
    if (
      changed.length > 0 ||
      JSON.stringify(next.spec.dataPlane) !== JSON.stringify(current.spec.dataPlane) ||
      JSON.stringify(next.spec.cloud) !== JSON.stringify(current.spec.cloud)
    ) {
      this.metrics.policyReloads.inc({ result: "needs-restart" });
      log.warn(
        "policy change needs an agent restart to take effect; prebind, limits, timers and subnets were applied",
        { fields: changed },
      );
    }
    try {
      this.driver?.update((s) => setSettings(s, this.settingsFor(next)));
      this.policy = next;
      this.switchOff?.policyApplied();
      this.metrics.policyReloads.inc({ result: "applied" });
      log.info("policy reloaded", {
        prebind: next.spec.prebind,
        limits: next.spec.limits ?? {},
        releaseInterval: next.spec.releaseInterval,
        enabled: next.spec.enabled,
      });
      // Newly listed subnets: their zone and free IPs now, not at the next resync.
      this.maintenance?.refreshSubnets().catch((e: unknown) =>
        log.warn("could not describe the new policy's subnets; the next resync retries", {
          error: (e as Error).message,
        }),
      );
    } catch (error) {
      this.metrics.policyReloads.inc({ result: "rejected" });
      log.error("policy reload failed; the previous one stays in force", { error: (error as Error).message });
    }
  }

  /** The policy's pool settings, growing only into the policy's subnets of this node's zone. */
  private settingsFor(policy: VpcCniPolicy): PoolSettings {
    const { zone } = this.identity as NodeIdentity;
    return { ...settingsFromPolicy(policy.spec), subnets: placement(policy.spec.subnets, this.subnetMap, zone).usable };
  }

  /**
   * After the policy or the subnet figures changed: which of the policy's subnets are in this
   * node's zone. With none, the node makes no cloud mutation at all; a Warning Event says why,
   * ADD fails at once and STATUS reports not ready (cni-api.ts).
   */
  private applyZone(): void {
    const policy = this.policy as VpcCniPolicy;
    const identity = this.identity as NodeIdentity;
    const p = placement(policy.spec.subnets, this.subnetMap, identity.zone);
    const refusal = noSubnetInZone(p, identity.node, policy.metadata.name, policy.spec.vpcId);
    const seen = JSON.stringify(p);
    if (seen !== this.placementSeen) {
      this.placementSeen = seen;
      if (refusal !== null) this.opts.log.error("no subnet of the policy is in this node's zone", { ...p });
      else this.opts.log.info("pod subnets of this node's zone", { ...p });
    }
    // Rate-limited by KubeSync: while the node stays stuck, the Event stays fresh.
    if (refusal !== null) this.kubeSync?.event("Warning", "NoSubnetInZone", refusal);
    this.zoneRefusal = refusal;
    const driver = this.driver;
    if (driver && JSON.stringify(driver.state.settings.subnets) !== JSON.stringify(p.usable))
      driver.update((s) =>
        setSubnets(setSettings(s, { ...s.settings, subnets: p.usable }), freeIps(this.subnetMap.values())),
      );
  }

  view() {
    const driver = this.driver as PoolDriver;
    const links = new Map(
      [...(this.executor?.links.values() ?? [])].map((l) => [
        l.eniId,
        { mac: l.mac, link: l.name, routeTable: l.table },
      ]),
    );
    return {
      node: this.opts.nodeName,
      instanceId: this.identity?.instanceId ?? "",
      policy: this.policy?.metadata.name ?? "",
      state: driver.state,
      links,
      ...(this.policy?.spec.enabled === false
        ? { switchOff: this.switchOff?.done ? ("drained" as const) : ("draining" as const) }
        : {}),
    };
  }

  /** Graceful: answers in flight are journaled; pods stay wired (a restart must not cut them). */
  async stop(): Promise<void> {
    if (this.fixed) return this.fixed.stop();
    this.ready = false;
    this.storeHealth?.stop();
    this.watcher?.stop();
    this.switchOff?.stop();
    this.maintenance?.stop();
    this.podGc?.stop();
    await this.servers?.stop();
    await this.driver?.stop();
    await this.kubeSync?.flush();
    await this.kubeSync?.stopDevicePlugin();
    // Host veths of pods deleted just before the stop are removed in the background.
    await this.dataPlane?.settle();
    this.dataPlane?.close?.();
    this.store?.close();
  }
}

/**
 * Each pod ENI's link and route table, at start. A Describe may answer from before a detach
 * (the cloud is eventually consistent; a kill -9 during a delete leaves one behind): an ENI
 * whose link never shows up is asked about again, and left out when the cloud now says it is
 * attached elsewhere or nowhere (the pool's journal finishes its delete). Only an ENI that is
 * attached here and has no link stops the start. Returns the IDs left out.
 */
async function setupLinks(
  list: Eni[],
  executor: CloudExecutor,
  api: VpcApi,
  instanceId: string,
  log: Logger,
): Promise<Set<string>> {
  const notHere = new Set<string>();
  for (const eni of list) {
    try {
      await executor.setupLink(eni);
    } catch (error) {
      const now = await api.getEni(eni.id);
      if (now?.attachment?.instanceId === instanceId) throw error;
      log.warn("an ENI listed as attached to this node is not (an answer from before its detach): left out", {
        eni: eni.id,
        attachedTo: now?.attachment?.instanceId ?? null,
        exists: now !== undefined,
      });
      notHere.add(eni.id);
    }
  }
  return notHere;
}
