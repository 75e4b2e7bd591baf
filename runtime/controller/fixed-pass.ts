// One pass of the fixed-IP controller (the leader runs it on a timer): read the cluster objects,
// the pods, the Nodes and the subnets; finish what a previous leader journaled; rebuild the
// allocator's state; feed it what changed (nodes that came or went, pods that came or went,
// claims deleted, claims expired); carry the decisions out (fixed-apply.ts); write the result
// back to the objects. Level-triggered: a pass that fails half-way is redone by the next.
import type { Subnet, VpcApi } from "../cloud/types.ts";
import {
  type Decision,
  bindNodeEni,
  collectExpired,
  deleteClaim,
  deletePod,
  type FixedState,
  podAdded,
  type Reclaim,
  removeNode,
  type Step,
} from "../fixed/index.ts";
import type { FixedKubePort, NodeInfo, PodInfo } from "../kube/fixed-client.ts";
import { isIPv4 } from "node:net";
import { parseDuration } from "../../schema/duration.ts";
import {
  CLAIM_EXPIRED_ANNOTATION,
  CLAIM_FINALIZER,
  DELETE_POLICY_ANNOTATION,
  INSTANCE_ID_LABEL,
  NOMINATED_IP_ANNOTATION,
} from "../../schema/names.ts";
import { FixedApplier, type Objects } from "./fixed-apply.ts";
import {
  type Address,
  askOf,
  type Claim,
  keyOf,
  type NodeConfig,
  type NodeEni,
  ORPHAN_PREFIX,
  stateFromObjects,
} from "./fixed-state.ts";
import { writeBack } from "./fixed-write.ts";
import { usesVpcCni } from "./webhook.ts";

export interface FixedSettings {
  /** The policy's pod subnets (ids). */
  subnets: string[];
  reclaim: Reclaim;
  /** spec.fixedIp.cascade: a claim is owned by its pod's StatefulSet, deleted with it. */
  cascade: boolean;
  mode: "default" | "mixed";
  /** The policy's nodeSelector: only these Nodes get an ENI (the agents run only there). */
  nodeSelector: Record<string, string>;
  /** spec.enabled (default true); false: switching off: nothing new, everything given back as pods go. */
  enabled?: boolean;
}

export interface PassDeps {
  kube: FixedKubePort;
  api: VpcApi;
  settings: () => FixedSettings;
  now: () => number;
  log: {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
  };
}

export interface PassReport {
  replayed: number;
  decisions: number;
  refusals: { subject: string; code: string; message: string }[];
}

/** The pods whose address the controller serves: bound to a node, on the pod network, running. */
export function servedPods(pods: PodInfo[], mode: FixedSettings["mode"]): PodInfo[] {
  return pods.filter(
    (p) =>
      p.node !== "" &&
      !p.hostNetwork &&
      !p.finished &&
      usesVpcCni({ metadata: { annotations: p.annotations }, spec: { hostNetwork: p.hostNetwork } }, { mode }).inject,
  );
}

export class FixedPass {
  private readonly applier: FixedApplier;
  /** Instance limits do not change: asked once per instance. */
  private readonly quotas = new Map<string, number>();
  /** Nor do their zones. */
  private readonly zones = new Map<string, string>();

  constructor(private readonly deps: PassDeps) {
    this.applier = new FixedApplier(deps);
  }

  async run(): Promise<PassReport> {
    const { kube, api, now, log } = this.deps;
    const settings = this.deps.settings();
    const [nodes, allPods, claims, addresses, enis, configs] = await Promise.all([
      kube.nodes(),
      kube.pods(),
      kube.list<Claim>("vpcipclaims"),
      kube.list<Address>("vpcips"),
      kube.list<NodeEni>("vpcenis"),
      kube.list<NodeConfig>("nodeeniconfigs"),
    ]);
    const objects: Objects = {
      claims: new Map(claims.map((c) => [keyOf(c), c])),
      addresses: new Map(addresses.map((a) => [a.metadata.name, a])),
      enis: new Map(enis.map((e) => [e.metadata.name, e])),
      configs: new Map(configs.map((c) => [c.metadata.name, c])),
    };
    const report: PassReport = { replayed: await this.applier.resume(objects), decisions: 0, refusals: [] };
    const selected = nodes.filter((n) => Object.entries(settings.nodeSelector).every(([k, v]) => n.labels[k] === v));
    const onSelected = new Set(selected.map((n) => n.name));
    // pods on a node with an ENI of ours stay served even if the node stopped matching the
    // nodeSelector: they run with their addresses until they go
    const pods = servedPods(allPods, settings.mode).filter((p) => onSelected.has(p.node) || objects.enis.has(p.node));
    const podByKey = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
    objects.podUids = new Map([...podByKey].map(([key, p]) => [key, p.uid]));
    const enabled = settings.enabled !== false;
    if (enabled) {
      await this.ensureConfigs(selected, objects);
      await this.ensureClaims(
        pods.filter((p) => onSelected.has(p.node)),
        objects,
        settings.cascade,
      );
    }
    const subnets: Subnet[] = await api.describeSubnets(settings.subnets);
    let state = stateFromObjects(
      {
        nodes,
        pods,
        claims: [...objects.claims.values()],
        addresses: [...objects.addresses.values()],
        enis: [...objects.enis.values()],
        configs: [...objects.configs.values()],
        subnets,
      },
      settings.reclaim,
    );
    const t = now();
    const refused = new Map<string, string>();
    const reasons = new Map<string, string>();
    const step = async (result: Step, subject: string): Promise<void> => {
      if (!result.ok) {
        report.refusals.push({ subject, ...result.refusal });
        refused.set(subject, result.refusal.message);
        if (result.refusal.code === "no-subnet-in-zone") reasons.set(subject, "NoSubnetInZone");
        return;
      }
      state = result.state;
      for (const d of result.decisions) {
        state = await this.applier.apply(state, d, objects, (node) => this.quotaOfNode(node, objects));
        report.decisions++;
      }
    };
    const nodeNames = new Set(nodes.map((n) => n.name));
    // Nodes that left the cluster: their pods are gone, their ENI goes (kept addresses stay
    // reserved). A Node that only stopped matching the nodeSelector keeps its ENI and pods.
    for (const node of Object.keys(state.nodes)) if (!nodeNames.has(node)) await step(removeNode(state, node, t), node);
    // Nodes that came: one ENI each, in the subnet with the most room that holds the quota.
    // Only subnets of the node's own zone: the cloud attaches an ENI to no instance of another.
    for (const node of enabled ? selected : []) {
      const config = objects.configs.get(node.name);
      if (!config || state.nodes[node.name]) continue;
      const zone = await this.zoneOfNode(node, config.spec.instanceId).catch((e: unknown) => {
        log.warn("node's zone not known yet; the next pass asks again", {
          node: node.name,
          error: (e as Error).message,
        });
        return null;
      });
      if (zone === null) continue;
      await step(bindNodeEni(state, node.name, config.spec.eniIPQuota, zone), `node/${node.name}`);
    }
    // Pods that went: their claim keeps or releases the address (its reclaim).
    for (const [key, c] of [...state.claims.entries()]) {
      if (c.node === null || key.startsWith(ORPHAN_PREFIX)) continue;
      const pod = podByKey.get(key);
      const uid = objects.claims.get(key)?.status?.podUID;
      if (!pod || pod.node !== c.node || (uid !== undefined && uid !== pod.uid)) {
        const [namespace = "", name = ""] = key.split("/");
        await step(deletePod(state, { namespace, name }, t), key);
      }
    }
    // Claims deleted by hand, and addresses no claim names: reclaimed at once.
    for (const key of [...state.claims.keys()]) {
      const deleting = objects.claims.get(key)?.metadata.deletionTimestamp !== undefined;
      if (deleting || key.startsWith(ORPHAN_PREFIX)) await step(deleteClaim(state, key), key);
    }
    if (enabled) {
      await step(collectExpired(state, t), "expired claims");
      // Pods that came: the claim's address (moved here if need be) or a new one of the node's
      // subnet. A new address is one assign on one ENI: those run side by side, one queue per
      // ENI (the cloud runs one task per ENI at a time); a move (unassign there, assign here)
      // runs at once, in order. An address another tenant of the VPC took is never tried again:
      // the pod gets the next one, within the pass.
      for (let attempt = 0; attempt < 5; attempt++) {
        const queues = new Map<string, Decision[]>();
        for (const pod of pods) {
          const key = `${pod.namespace}/${pod.name}`;
          const claim = objects.claims.get(key);
          if (!claim || claim.metadata.deletionTimestamp !== undefined) continue;
          if (state.claims.get(key)?.node === pod.node || refused.has(key)) continue;
          const result = podAdded(state, pod, pod.node, askOf(claim.spec));
          const only = result.ok && result.decisions.length === 1 ? result.decisions[0] : undefined;
          if (result.ok && only?.action === "assign") {
            state = result.state;
            queues.set(only.eni, [...(queues.get(only.eni) ?? []), only]);
          } else await step(result, key);
        }
        if (queues.size === 0) break;
        const before = state;
        const after = await Promise.all(
          [...queues.values()].map((queue) => {
            report.decisions += queue.length;
            return this.applier.assignAll(before, queue as Extract<Decision, { action: "assign" }>[], objects);
          }),
        );
        // each queue changes the one state in place (addressInUse), so any answer is the state
        state = after[0] ?? state;
      }
    } else {
      // Switched off: nothing new. Kept addresses go back to the VPC at once, whatever their
      // reclaim; a node whose vpccni pods are all gone gives its ENI back. Once every node has,
      // the cloud holds nothing of the cluster's (the agents refuse new pods meanwhile).
      for (const [key, c] of [...state.claims.entries()]) if (c.node === null) await step(deleteClaim(state, key), key);
      const busy = new Set([...state.claims.values()].map((c) => c.node));
      for (const node of Object.keys(state.nodes)) if (!busy.has(node)) await step(removeNode(state, node, t), node);
    }
    await writeBack({ kube, state, objects, nodes, pods: podByKey, refused, reasons, now: t, enabled, log });
    if (report.decisions > 0 || report.refusals.length > 0 || report.replayed > 0)
      log.info("fixed IP pass", {
        decisions: report.decisions,
        replayed: report.replayed,
        refusals: report.refusals.map((r) => `${r.subject}: ${r.code}`),
      });
    return report;
  }

  /**
   * The node's zone as the VPC API names zones (DescribeSubnets' too): the zone of its
   * instance's primary ENI, asked once per instance (it never changes). Not the Node's
   * topology.kubernetes.io/zone label: TKE writes the zone's numeric ID there (100003, not
   * ap-guangzhou-3), and a label is anyone's to set.
   */
  private async zoneOfNode(node: NodeInfo, instanceId: string | undefined): Promise<string> {
    if (!instanceId) throw new Error(`node ${node.name}: its NodeENIConfig names no instance`);
    let zone = this.zones.get(instanceId);
    if (zone === undefined) {
      const primary = (await this.deps.api.listEnis(instanceId)).find((e) => e.primary);
      if (!primary) throw new Error(`instance ${instanceId} of node ${node.name} lists no primary ENI`);
      zone = primary.zone;
      this.zones.set(instanceId, zone);
    }
    return zone;
  }

  private quotaOfNode(node: string, objects: Objects): number {
    const q = objects.configs.get(node)?.spec.eniIPQuota;
    if (q === undefined) throw new Error(`node ${node} has no NodeENIConfig`);
    return q;
  }

  /** A NodeENIConfig per Node that names its instance (TKE's instance-id label). */
  private async ensureConfigs(nodes: { name: string; labels: Record<string, string> }[], objects: Objects) {
    for (const node of nodes) {
      if (objects.configs.has(node.name)) continue;
      const instanceId = node.labels[INSTANCE_ID_LABEL];
      if (!instanceId) continue;
      let quota = this.quotas.get(instanceId);
      if (quota === undefined) {
        // the limits count each ENI's primary IP, which pods cannot use
        quota = Math.max(1, (await this.deps.api.instanceLimits(instanceId)).ipsPerEni - 1);
        this.quotas.set(instanceId, quota);
      }
      const made = await this.deps.kube.create<NodeConfig>("nodeeniconfigs", {
        metadata: { name: node.name },
        spec: { instanceId, eniIPQuota: quota },
      });
      objects.configs.set(node.name, made);
    }
  }

  /** A VpcIPClaim per served pod, named after it, with the reclaim its annotations ask for. */
  private async ensureClaims(pods: PodInfo[], objects: Objects, cascade: boolean) {
    for (const pod of pods) {
      const key = `${pod.namespace}/${pod.name}`;
      if (objects.claims.has(key)) continue;
      const made = await this.deps.kube.create<Claim>("vpcipclaims", {
        metadata: {
          name: pod.name,
          namespace: pod.namespace,
          finalizers: [CLAIM_FINALIZER],
          ...(cascade && pod.owner?.kind === "StatefulSet" ? { ownerReferences: [pod.owner] } : {}),
        },
        spec: claimSpecOf(pod.annotations),
      });
      objects.claims.set(key, made);
    }
  }
}

/** The claim's spec from the pod's TKE annotations; a value the CRD would refuse is left out. */
export function claimSpecOf(annotations: Record<string, string>): Claim["spec"] {
  const policy = annotations[DELETE_POLICY_ANNOTATION];
  const duration = annotations[CLAIM_EXPIRED_ANNOTATION];
  const nominated = annotations[NOMINATED_IP_ANNOTATION];
  return {
    ...(policy === "Immediate" || policy === "Never" ? { deletePolicy: policy } : {}),
    ...(duration && parseDuration(duration) !== undefined ? { expiredDuration: duration } : {}),
    ...(nominated && isIPv4(nominated) ? { nominatedAddress: nominated } : {}),
  };
}
