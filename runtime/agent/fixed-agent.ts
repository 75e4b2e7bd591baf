// The node agent in fixed IP mode (docs/fixed-ip.md "Node side"). The cluster controller owns
// the addresses: it binds one ENI per node and assigns each pod's address on it, recording both
// in the cluster objects. This agent runs no pool and makes no cloud mutation: it sets the
// sysctls and each cluster ENI's link and route table as shared mode does (CloudExecutor's
// setupLink, the same data plane), wires each pod with the address its VpcIPClaim holds
// (fixed-cni-api.ts), and publishes eni-ip = the node ENI's quota once the ENI is bound.
// Switched off, it refuses new pods and, once the controller has given the node's ENI back,
// cleans the node up as shared mode does (switch-off.ts, fixed-drain.ts).
import { dirname, join } from "node:path";
import type { VpcCniPolicy } from "../../schema/index.ts";
import { ENI_IP_RESOURCE, TAG_CLUSTER } from "../../schema/names.ts";
import type { Eni, Subnet, VpcApi } from "../cloud/types.ts";
import type { KubePort } from "../kube/client.ts";
import { DevicePlugin } from "../kube/device-plugin.ts";
import type { DataPlane, EniLink } from "../net/types.ts";
import type { AgentOptions } from "./agent.ts";
import { CloudExecutor } from "./executor.ts";
import { type NodeEniState, nodeEniState } from "./fixed-claim.ts";
import { fixedCniApi } from "./fixed-cni-api.ts";
import { fixedDrain } from "./fixed-drain.ts";
import { type AgentServers, startServers } from "./http.ts";
import { agentNetnsRule } from "./netns-guard.ts";
import { privateDir } from "./private-dirs.ts";
import type { PoolView } from "./introspect.ts";
import { EniIpPublisher } from "./kube-sync.ts";
import type { AgentMetrics } from "./metrics.ts";
import { connectNode } from "./node-setup.ts";
import { ownerAnswers } from "./opt-in.ts";
import { describeRejection, type PolicyLoad, PolicyWatcher } from "./policy-file.ts";
import { NodeStore } from "./store.ts";
import { drainedBefore, SwitchOff, switchOffRefusal } from "./switch-off.ts";

/** NodeENIConfig reads: often while the controller has not bound the ENI, seldom after. */
const ENI_POLL_UNBOUND_MS = 1_000;
const ENI_POLL_BOUND_MS = 15_000;

export class FixedAgent {
  private policy: VpcCniPolicy;
  private store?: NodeStore;
  private servers?: AgentServers;
  private watcher?: PolicyWatcher;
  private publisher?: EniIpPublisher;
  private switchOff?: SwitchOff;
  private executor?: CloudExecutor;
  private dataPlane?: DataPlane;
  private api?: VpcApi;
  private instanceId = "";
  private primaryInterface = "";
  private readonly subnets = new Map<string, Subnet>();
  private readonly settingUp = new Map<string, Promise<EniLink>>();
  /** ENI id -> its subnet, for the view. */
  private readonly eniSubnets = new Map<string, string>();
  private eni: NodeEniState = { ready: false, quota: 0, message: "not read yet" };
  private eniSeen = "";
  private eniTimer: ReturnType<typeof setTimeout> | undefined;
  private reading: Promise<NodeEniState> | undefined;
  private stopped = false;
  private ready = false;

  constructor(
    private readonly opts: AgentOptions,
    private readonly load: Extract<PolicyLoad, { ok: true }>,
    private readonly metrics: AgentMetrics,
  ) {
    this.policy = load.policy;
  }

  private get kube(): KubePort {
    return this.opts.kube as KubePort;
  }

  async start(): Promise<void> {
    const { opts, policy } = this;
    const log = opts.log;
    if (!opts.kube)
      throw new Error(
        `policy ${policy.metadata.name} sets spec.ipMode: fixed, which reads each pod's VpcIPClaim and this node's NodeENIConfig from the Kubernetes API; the agent runs with --no-kube. Allowed: fixed mode with Kubernetes access (drop --no-kube), or ipMode: shared`,
      );
    const node = await connectNode(opts, policy);
    this.instanceId = node.instanceId;
    this.primaryInterface = node.primaryInterface;
    this.api = node.api;
    const dataPlane = (this.dataPlane = node.dataPlane);
    privateDir(opts.stateDir);
    privateDir(dirname(opts.socket));
    const store = (this.store = new NodeStore(join(opts.stateDir, "node.db")));
    // CloudExecutor only sets links up here: the pool never runs, so it never executes a decision.
    this.executor = new CloudExecutor(
      node.api,
      dataPlane,
      { node: opts.nodeName, instanceId: node.instanceId, zone: node.zone, securityGroupIds: [] },
      () => this.subnets,
      log,
    );

    // The kernel: every cluster ENI of this instance gets its link and route table, then the sysctls.
    const enis = (await node.api.listEnis(node.instanceId)).filter(
      (e) => !e.primary && e.tags[TAG_CLUSTER] === policy.spec.clusterId,
    );
    await this.describe(enis.map((e) => e.subnetId));
    for (const eni of enis)
      await this.setupLink(eni).catch((e: unknown) =>
        log.warn("the link of a cluster ENI is not usable yet; the next ADD on it retries", {
          eni: eni.id,
          error: (e as Error).message,
        }),
      );
    // A node switched off and drained keeps the sysctls as they were put back.
    if (!drainedBefore(policy, store)) await this.ensureSysctls();
    const records = store.fixedAttachments();
    log.info("fixed IP mode: state restored", { enis: enis.map((e) => e.id), attachments: records.length });

    const devicePlugin = opts.devicePluginDir
      ? new DevicePlugin({ dir: opts.devicePluginDir, resourceName: ENI_IP_RESOURCE, log })
      : undefined;
    this.publisher = new EniIpPublisher({
      kube: this.kube,
      node: opts.nodeName,
      log,
      devicePlugin,
      figures: () => {
        const quota = this.eni.ready ? this.eni.quota : 0;
        return { capacity: quota, allocatable: switchOffRefusal(this.policy, opts.nodeName) === null ? quota : 0 };
      },
    });
    this.switchOff = new SwitchOff({
      node: opts.nodeName,
      policy: () => this.policy,
      drain: fixedDrain({
        instanceId: node.instanceId,
        clusterId: () => this.policy.spec.clusterId,
        store,
        api: node.api,
        log,
        eni: () => this.eni,
        readEni: () => this.readNodeEni(),
        forgetLinks: () => this.executor?.links.clear(),
      }),
      store,
      dataPlane,
      kube: this.kube,
      log,
      cniConfDir: opts.cniConfDir,
    });
    await this.readNodeEni().catch(() => {});
    const optIn = ownerAnswers(
      () => this.policy.spec.mode,
      (reason) => log.warn("mixed mode: the runtime passed no pod annotations", { reason }),
    );
    const api = fixedCniApi({
      node: opts.nodeName,
      store,
      dataPlane,
      metrics: this.metrics,
      log,
      addTimeoutMs: opts.addTimeoutMs ?? 20_000,
      claim: (namespace, name) => this.kube.getClaim(namespace, name),
      link: (eniId) => this.link(eniId),
      table: (eniId) => this.executor?.links.get(eniId)?.table,
      nodeEni: () => (this.eni.ready ? Promise.resolve(this.eni) : this.readNodeEni().catch(() => this.eni)),
      switchedOff: () => switchOffRefusal(this.policy, opts.nodeName),
      optIn,
    });
    // A pod gone while switched off may be the node's last: the drain looks again.
    const cni = {
      ...api,
      del: (req: Parameters<typeof api.del>[0]) => api.del(req).finally(() => this.podGone()),
      gc: (req: Parameters<typeof api.gc>[0]) => api.gc(req).finally(() => this.podGone()),
    };
    this.servers = startServers({
      socket: opts.socket,
      listen: opts.listen,
      cni,
      metrics: this.metrics,
      ready: () => this.ready,
      netns: agentNetnsRule(opts.netnsDirs, opts.netns),
      view: () => this.view(),
    });
    await this.publisher.start();
    this.scheduleNodeEni();
    this.watcher = new PolicyWatcher(opts.policyFile, this.load.text, {
      onPolicy: (next) => this.applyPolicy(next),
      onRejected: (rejected) => {
        this.metrics.policyReloads.inc({ result: "rejected" });
        log.error("new policy rejected; the previous one stays in force", { diagnostics: describeRejection(rejected) });
      },
    });
    this.watcher.start();
    // Switched off (now or before a restart): report it, and carry the drain on.
    this.switchOff.policyApplied();
    this.ready = true;
    log.info("agent ready (fixed IP mode)", { socket: opts.socket, eni: this.eni.eniId ?? null, pods: records.length });
  }

  private applyPolicy(next: VpcCniPolicy): void {
    const fields = ["region", "vpcId", "clusterId", "ipMode", "dataPlane", "cloud"] as const;
    const changed = fields.filter((f) => JSON.stringify(next.spec[f]) !== JSON.stringify(this.policy.spec[f]));
    if (changed.length > 0) {
      this.metrics.policyReloads.inc({ result: "needs-restart" });
      this.opts.log.warn("policy change needs an agent restart to take effect", { fields: changed });
    }
    this.policy = next;
    this.metrics.policyReloads.inc({ result: "applied" });
    // Switched off: new pods are refused (code 104), eni-ip allocatable is 0, and the node is
    // cleaned up once its pods are gone and the controller has given its ENI back.
    this.switchOff?.policyApplied();
    this.opts.log.info("policy reloaded", { enabled: next.spec.enabled, mode: next.spec.mode });
    this.publisher?.changed();
  }

  private async describe(subnetIds: string[]): Promise<void> {
    const missing = [...new Set(subnetIds)].filter((id) => !this.subnets.has(id));
    if (missing.length === 0) return;
    for (const s of await (this.api as VpcApi).describeSubnets(missing)) this.subnets.set(s.id, s);
  }

  private async setupLink(eni: Eni): Promise<EniLink> {
    const link = await (this.executor as CloudExecutor).setupLink(eni);
    this.eniSubnets.set(eni.id, eni.subnetId);
    this.opts.log.info("ENI link set up", { eni: eni.id, link: link.name, table: link.table });
    return link;
  }

  /** The ENI's link, set up on first use: the cloud says which MAC and subnet (reads only). */
  private link(eniId: string): Promise<EniLink> {
    const known = this.executor?.links.get(eniId);
    if (known) return Promise.resolve(known);
    let pending = this.settingUp.get(eniId);
    if (!pending) {
      pending = (async () => {
        const eni = await (this.api as VpcApi).getEni(eniId);
        if (!eni) throw new Error(`the cloud lists no ENI ${eniId}`);
        if (eni.attachment?.instanceId !== this.instanceId)
          throw new Error(
            `ENI ${eniId} is ${eni.attachment ? `attached to ${eni.attachment.instanceId}` : "attached to no instance"}, not to this node's ${this.instanceId}`,
          );
        await this.describe([eni.subnetId]);
        const link = await this.setupLink(eni);
        await this.ensureSysctls();
        return link;
      })().finally(() => this.settingUp.delete(eniId));
      this.settingUp.set(eniId, pending);
    }
    return pending;
  }

  /** rp_filter and forwarding as shared mode sets them; the values before are kept for switching off. */
  private async ensureSysctls(): Promise<void> {
    const eniLinks = [...(this.executor as CloudExecutor).links.values()].map((l) => l.name);
    const changed = await (this.dataPlane as DataPlane).ensureSysctls(this.primaryInterface, eniLinks);
    const perEni = new Set(eniLinks.map((n) => `net.ipv4.conf.${n}.rp_filter`));
    this.store?.rememberSysctls(changed.filter((c) => !perEni.has(c.key)));
  }

  /** Reads this node's NodeENIConfig (one read at a time); a change is logged and published. */
  private readNodeEni(): Promise<NodeEniState> {
    this.reading ??= (async () => {
      try {
        const state = nodeEniState(await this.kube.getNodeEniConfig(this.opts.nodeName), this.opts.nodeName);
        const seen = JSON.stringify(state);
        if (seen !== this.eniSeen) {
          this.eniSeen = seen;
          this.opts.log.info("this node's NodeENIConfig", { ...state });
          this.eni = state;
          this.publisher?.changed();
          // The bound ENI's link now rather than at the first ADD (best effort: ADD retries).
          if (state.eniId)
            void this.link(state.eniId).catch((e: unknown) =>
              this.opts.log.warn("the bound ENI's link is not usable yet", {
                eni: state.eniId,
                error: (e as Error).message,
              }),
            );
        }
        // Switched off: the ENI given back may be the last thing the node waited for.
        this.switchOff?.changed();
        return state;
      } catch (error) {
        this.opts.log.warn("could not read this node's NodeENIConfig", { error: (error as Error).message });
        throw error;
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  private scheduleNodeEni(): void {
    if (this.stopped) return;
    this.eniTimer = setTimeout(
      () => {
        this.eniTimer = undefined;
        void this.readNodeEni()
          .catch(() => {})
          .finally(() => this.scheduleNodeEni());
      },
      this.eni.ready && !this.awaitingEniRelease() ? ENI_POLL_BOUND_MS : ENI_POLL_UNBOUND_MS,
    );
  }

  /** After a DEL or GC: switched off, the node's last pod gone makes the drain look again, and often. */
  private podGone(): void {
    this.switchOff?.changed();
    if (this.eniTimer === undefined || !this.awaitingEniRelease()) return;
    clearTimeout(this.eniTimer);
    this.scheduleNodeEni();
  }

  /** Switched off with no pod left: the controller gives the ENI back within a pass or two; looked for often. */
  private awaitingEniRelease(): boolean {
    const off = this.switchOff;
    return (
      off !== undefined &&
      this.policy.spec.enabled === false &&
      !off.done &&
      (this.store?.fixedAttachments().length ?? 1) === 0
    );
  }

  /** The introspection view in the shape shared mode serves: the node's ENIs and its pods. */
  view(): PoolView {
    const records = this.store?.fixedAttachments() ?? [];
    const links = [...(this.executor?.links.values() ?? [])];
    const quota = this.eni.ready ? this.eni.quota : 0;
    const allocatable = switchOffRefusal(this.policy, this.opts.nodeName) === null ? quota : 0;
    return {
      version: "vpccni-introspect/1",
      ipMode: "fixed",
      node: this.opts.nodeName,
      instanceId: this.instanceId,
      policy: this.policy.metadata.name,
      summary: {
        pods: records.length,
        waiting: 0,
        bound: records.length,
        idle: 0,
        ready: 0,
        pendingBind: 0,
        enis: links.length,
        inflight: 0,
        maxBindable: quota,
      },
      extendedResource: { capacity: quota, allocatable },
      enis: links
        .map((l) => {
          const assigned = records.filter((r) => r.eniId === l.eniId).length;
          return {
            id: l.eniId,
            subnet: this.eniSubnets.get(l.eniId) ?? "",
            mac: l.mac,
            link: l.name,
            routeTable: l.table,
            bound: assigned,
            assigned,
            idle: 0,
            deleting: false,
          };
        })
        .sort((a, b) => a.id.localeCompare(b.id)),
      pods: records.map((r) => ({ key: r.key, ip: r.ip, eni: r.eniId })),
      inflight: [],
      ...(this.policy.spec.enabled === false
        ? { switchOff: this.switchOff?.done ? ("drained" as const) : ("draining" as const) }
        : {}),
    };
  }

  /** Graceful: pods stay wired (a restart must not cut them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ready = false;
    clearTimeout(this.eniTimer);
    this.watcher?.stop();
    this.switchOff?.stop();
    await this.servers?.stop();
    await this.publisher?.flush();
    await this.publisher?.stopDevicePlugin();
    await this.dataPlane?.settle();
    this.dataPlane?.close?.();
    this.store?.close();
  }
}
