// Carrying the fixed-IP allocator's decisions out: each cloud mutation is journaled in a cluster
// object before the call (`status.pending`: action, ClientToken, ENI, address, start time) and
// cleared after it, so a controller that dies anywhere leaves a record its successor replays
// with the same ClientToken (the cloud answers a repeated token with the first answer): no ENI
// or address is made twice or leaked.
//   create-eni   journal on the node's VpcENI     CreateNetworkInterface (no secondary IP) + attach
//   assign       journal on the pod's VpcIPClaim   AssignPrivateIpAddresses by address
//   unassign     journal on the address's VpcIP    UnassignPrivateIpAddresses (gone counts as done)
//   delete-eni   journal on the node's VpcENI     detach + DeleteNetworkInterface
// The VpcIP is created before an address is assigned: its name is the address, so a create that
// finds it taken (AlreadyExists) is how two controllers can never hand out one address.
import { randomUUID } from "node:crypto";
import { CloudError } from "../cloud/errors.ts";
import type { VpcApi } from "../cloud/types.ts";
import { addressInUse, type Decision, eniReady, type FixedState } from "../fixed/index.ts";
import { Conflict, type FixedKubePort } from "../kube/fixed-client.ts";
import type { Address, Claim, NodeConfig, NodeEni } from "./fixed-state.ts";

type Pending = NonNullable<NonNullable<Claim["status"]>["pending"]>;

export interface ApplyDeps {
  kube: FixedKubePort;
  api: VpcApi;
  now: () => number;
  log: {
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
  };
}

/** The objects a pass read, kept current as it writes (each write returns the new resourceVersion). */
export interface Objects {
  claims: Map<string, Claim>;
  addresses: Map<string, Address>;
  enis: Map<string, NodeEni>;
  configs: Map<string, NodeConfig>;
  /** The uid of the pod each running claim serves ("namespace/name"), for the claim's status. */
  podUids?: Map<string, string>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The cloud ran the call's task and undid it (DescribeVpcTaskResult FAILED). Its ClientToken is
 * spent: the same token answers with the same failed task, so a journal entry replayed with it
 * would fail for ever. The entry is kept, with a new token, and the next pass tries again.
 */
export function taskFailed(e: unknown): boolean {
  return e instanceof CloudError && e.code === "FailedOperation.TaskFailed";
}
/** AssignPrivateIpAddresses names at most ten addresses a call. */
const ASSIGN_BATCH = 10;
const ipOrder = (a: string, b: string) => {
  const n = (ip: string) => ip.split(".").reduce((x, o) => x * 256 + Number(o), 0);
  return n(a) - n(b);
};

export class FixedApplier {
  constructor(private readonly deps: ApplyDeps) {}

  private pending(action: Pending["action"], extra: Partial<Pending> = {}): Pending {
    return { action, clientToken: randomUUID(), startedAt: iso(this.deps.now()), ...extra };
  }

  private instanceOf(objects: Objects, node: string): string {
    const id = objects.configs.get(node)?.spec.instanceId;
    if (!id) throw new Error(`node ${node}: its NodeENIConfig names no instance`);
    return id;
  }

  /** One decision; returns the state with what the cloud said folded in. */
  async apply(state: FixedState, d: Decision, objects: Objects, quotaOf: (node: string) => number) {
    switch (d.action) {
      case "create-eni": {
        const { kube } = this.deps;
        const made =
          objects.enis.get(d.node) ??
          (await kube.create<NodeEni>("vpcenis", {
            metadata: { name: d.node },
            spec: { node: d.node, subnet: d.subnet, reservedIPs: quotaOf(d.node) },
          }));
        const eni = await kube.updateStatus<NodeEni>("vpcenis", {
          ...made,
          status: { phase: "Creating", pending: this.pending("create-eni") },
        });
        objects.enis.set(d.node, eni);
        // one node's ENI failing (its quota, the cloud's faults) must not hold the others up: the
        // journal keeps it, and the next pass tries again (a subnet of another zone: createEni)
        const eniId = await this.createEni(eni, objects).catch((e: unknown) => {
          this.deps.log.warn("node ENI not made yet; the next pass tries again", {
            node: d.node,
            subnet: d.subnet,
            error: (e as Error).message,
          });
          return null;
        });
        return eniId === null ? state : eniReady(state, d.node, eniId);
      }
      case "assign":
        return this.assign(state, d, objects);
      case "unassign":
        await this.unassign(d.eni, d.ip, objects);
        return state;
      case "delete-eni":
        await this.deleteEni(d.node, d.eni, objects);
        return state;
    }
  }

  /** Creates (or, replayed with the journal's token, finds) the node's ENI and attaches it. */
  async createEni(eni: NodeEni, objects: Objects): Promise<string> {
    const { api, kube } = this.deps;
    const p = eni.status?.pending;
    if (!p) throw new Error(`VpcENI ${eni.metadata.name} has no pending create`);
    const node = eni.spec.node;
    const instance = this.instanceOf(objects, node);
    const primary = (await api.listEnis(instance)).find((e) => e.primary);
    if (!primary) throw new Error(`instance ${instance} of node ${node} lists no primary ENI`);
    const renew = async (e: unknown): Promise<never> => {
      // a failed task: the same token would replay the failure (taskFailed)
      const again = await kube.updateStatus<NodeEni>("vpcenis", {
        ...eni,
        status: { ...eni.status, pending: { ...p, clientToken: randomUUID() } },
      });
      objects.enis.set(node, again);
      throw e;
    };
    const made = await api
      .createEni({
        subnetId: eni.spec.subnet,
        securityGroupIds: primary.securityGroupIds,
        secondaryIps: 0,
        node,
        name: `vpccni-fixed-${node}`.slice(0, 60),
        clientToken: p.clientToken,
        createdAt: Date.parse(p.startedAt),
      })
      .catch((e: unknown) => (taskFailed(e) ? renew(e) : Promise.reject(e)));
    const attached = await api
      .attachEni(made.id, instance, { clientToken: `${p.clientToken}.attach` })
      .catch(async (e: unknown) => {
        if (taskFailed(e)) {
          // The attach was undone: this ENI goes, and a new token makes a new one next pass.
          await api.deleteEni(made.id);
          return renew(e);
        }
        if (!(e instanceof CloudError) || e.kind !== "zone-mismatch") throw e;
        // A subnet of another zone (a create journaled before zones were checked): retrying
        // cannot help. The ENI and its VpcENI go; the next pass binds the node
        // again in its own zone, or refuses it with the reason.
        await api.deleteEni(made.id);
        await kube.remove("vpcenis", eni.metadata.name);
        objects.enis.delete(node);
        throw new Error(
          `node ${node}: subnet ${eni.spec.subnet} is not in the zone of instance ${instance}; its ENI ${made.id} was deleted and the next pass picks a subnet of the node's zone`,
        );
      });
    const done = await kube.updateStatus<NodeEni>("vpcenis", {
      ...eni,
      status: {
        phase: "Attached",
        eniId: made.id,
        macAddress: attached.mac,
        primaryIP: made.primaryIp,
        assignedIPs: 0,
      },
    });
    objects.enis.set(node, done);
    this.deps.log.info("node ENI bound", { node, eni: made.id, subnet: eni.spec.subnet, instance });
    return made.id;
  }

  private assign(state: FixedState, d: Extract<Decision, { action: "assign" }>, objects: Objects) {
    return this.assignAll(state, [d], objects);
  }

  /**
   * New addresses on one ENI, ten to a call (AssignPrivateIpAddresses names at most ten): every
   * claim of a call journaled first, under the call's ClientToken (side by side: the API server
   * takes them in parallel), then the calls one after the other (the cloud runs one task per
   * ENI), then the results recorded side by side. Each address is journaled before its call, so
   * a crash anywhere leaves a record the next leader finishes (resume: by token).
   */
  async assignAll(
    state: FixedState,
    decisions: Extract<Decision, { action: "assign" }>[],
    objects: Objects,
  ): Promise<FixedState> {
    const sorted = [...decisions].sort((a, b) => ipOrder(a.ip, b.ip));
    const chunks: (typeof sorted)[] = [];
    for (let i = 0; i < sorted.length; i += ASSIGN_BATCH) chunks.push(sorted.slice(i, i + ASSIGN_BATCH));
    const journaled = await Promise.all(
      chunks.map((chunk) => {
        const token = randomUUID();
        return Promise.all(chunk.map((d) => this.journalAssign(state, d, objects, token)));
      }),
    );
    let next = state;
    const done: { claim: Claim; failed: string | null }[] = [];
    for (const group of journaled) for (const r of await this.callAssignGroup(group, objects)) done.push(r);
    for (const r of done) if (r.failed !== null) next = addressInUse(next, r.claim.status?.pending?.address as string);
    await Promise.all(done.map((r) => this.recordAssign(r.claim, r.failed, objects)));
    return next;
  }

  /**
   * One call for a group journaled under one token. Replayed by a new leader: the addresses the
   * cloud already lists are done; otherwise the group is whole (records come only after a call
   * returned) and the same token with the same sorted list gets the first answer. An address
   * another tenant holds fails the whole call: then each is tried alone, journaled anew.
   */
  private async callAssignGroup(group: Claim[], objects: Objects): Promise<{ claim: Claim; failed: string | null }[]> {
    const first = group[0]?.status?.pending;
    if (!first?.eniId || group.some((c) => c.status?.pending?.action !== "assign"))
      throw new Error("callAssignGroup: no pending assign");
    const eniId = first.eniId;
    const ips = group.map((c) => c.status?.pending?.address as string).sort(ipOrder);
    const listed = new Set((await this.deps.api.getEni(eniId))?.secondaryIps ?? []);
    if (ips.every((ip) => listed.has(ip))) return group.map((claim) => ({ claim, failed: null }));
    try {
      await this.deps.api.assignIps(eniId, { ips, clientToken: first.clientToken });
      return group.map((claim) => ({ claim, failed: null }));
    } catch (e) {
      if (taskFailed(e)) {
        // the call was undone: the same addresses, journaled again under a new token
        const token = randomUUID();
        for (const claim of group) {
          const again = await this.deps.kube.updateStatus<Claim>("vpcipclaims", {
            ...claim,
            status: { ...claim.status, pending: { ...(claim.status?.pending as Pending), clientToken: token } },
          });
          objects.claims.set(`${claim.metadata.namespace}/${claim.metadata.name}`, again);
        }
        throw e;
      }
      if (!(e instanceof CloudError) || e.kind !== "address-in-use") throw e;
      if (group.length === 1)
        return [{ claim: group[0] as Claim, failed: `address ${ips[0]} is used outside the cluster; picking another` }];
    }
    const out: { claim: Claim; failed: string | null }[] = [];
    for (const claim of group) {
      const p = claim.status?.pending as NonNullable<typeof first>;
      const alone = await this.deps.kube.updateStatus<Claim>("vpcipclaims", {
        ...claim,
        status: { ...claim.status, pending: { ...p, clientToken: randomUUID() } },
      });
      objects.claims.set(`${claim.metadata.namespace}/${claim.metadata.name}`, alone);
      out.push(...(await this.callAssignGroup([alone], objects)));
    }
    return out;
  }

  /** The lock (the address's VpcIP) and the journal entry (the claim's status.pending). */
  private async journalAssign(
    state: FixedState,
    d: Extract<Decision, { action: "assign" }>,
    objects: Objects,
    token: string,
  ) {
    const { kube } = this.deps;
    const [namespace = "", name = ""] = d.claim.split("/");
    const a = state.addresses.get(d.ip);
    if (!a) throw new Error(`assign ${d.ip}: not in the allocation table`);
    const vip = objects.addresses.get(d.ip);
    if (!vip) {
      objects.addresses.set(
        d.ip,
        await kube.create<Address>("vpcips", {
          metadata: { name: d.ip },
          spec: { address: d.ip, subnet: a.subnet, claim: { namespace, name } },
        }),
      );
    } else if (vip.spec.claim.namespace !== namespace || vip.spec.claim.name !== name) {
      throw new Conflict(`VpcIP ${d.ip} belongs to ${vip.spec.claim.namespace}/${vip.spec.claim.name}, not ${d.claim}`);
    }
    const claim = objects.claims.get(d.claim);
    if (!claim) throw new Error(`assign ${d.ip}: claim ${d.claim} has no object`);
    const node = state.claims.get(d.claim)?.node ?? undefined;
    const journaled = await kube.updateStatus<Claim>("vpcipclaims", {
      ...claim,
      status: {
        ...claim.status,
        phase: "Pending",
        address: d.ip,
        subnet: a.subnet,
        ...(node ? { node } : {}),
        eniId: d.eni,
        pending: this.pending("assign", { eniId: d.eni, address: d.ip, clientToken: token }),
      },
    });
    objects.claims.set(d.claim, journaled);
    return journaled;
  }

  /** The claim and its VpcIP say what the cloud did; the journal entry goes. */
  private async recordAssign(claim: Claim, failed: string | null, objects: Objects): Promise<void> {
    const { kube } = this.deps;
    const p = claim.status?.pending;
    if (p?.action !== "assign" || !p.eniId || !p.address) throw new Error("recordAssign: no pending assign");
    const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
    if (failed) {
      // another tenant of the VPC holds it: never picked again; the pod's next try gets another
      await kube.remove("vpcips", p.address);
      objects.addresses.delete(p.address);
    }
    const { pending: _done, ...rest } = claim.status ?? {};
    const uid = objects.podUids?.get(key);
    // what the pass's write-back would write, so that it has nothing left to write
    const status: Claim["status"] = failed
      ? { ...rest, phase: "Pending", address: undefined, eniId: undefined, message: failed }
      : {
          phase: rest.node ? "Bound" : "Kept",
          address: p.address,
          subnet: rest.subnet,
          ...(rest.node ? { node: rest.node } : {}),
          eniId: p.eniId,
          ...(rest.node && uid ? { podUID: uid } : {}),
        };
    const vip = failed ? undefined : objects.addresses.get(p.address);
    const [updated] = await Promise.all([
      kube.updateStatus<Claim>("vpcipclaims", { ...claim, status }),
      vip
        ? kube
            .updateStatus<Address>("vpcips", {
              ...vip,
              status: { phase: "Attached", eniId: p.eniId, ...(rest.node ? { node: rest.node } : {}) },
            })
            .then((v) => objects.addresses.set(p.address as string, v))
        : undefined,
    ]);
    objects.claims.set(key, updated);
    if (failed) this.deps.log.warn("address in use outside the cluster", { claim: key, address: p.address });
    else this.deps.log.info("address assigned", { claim: key, address: p.address, eni: p.eniId });
  }

  private async unassign(eni: string, ip: string, objects: Objects): Promise<void> {
    const vip = objects.addresses.get(ip);
    if (!vip) throw new Error(`unassign ${ip}: no VpcIP object`);
    const journaled = await this.deps.kube.updateStatus<Address>("vpcips", {
      ...vip,
      status: { ...vip.status, phase: "Releasing", pending: this.pending("unassign", { eniId: eni, address: ip }) },
    });
    objects.addresses.set(ip, journaled);
    await this.finishUnassign(journaled, objects);
  }

  /** Unassigns the journaled address; the address object stays, parked, until the write-back. */
  async finishUnassign(vip: Address, objects: Objects): Promise<void> {
    const p = vip.status?.pending;
    if (p?.action !== "unassign" || !p.eniId) throw new Error("finishUnassign: no pending unassign");
    const eni = await this.deps.api.getEni(p.eniId);
    if (eni?.secondaryIps.includes(vip.spec.address)) await this.deps.api.unassignIps(p.eniId, [vip.spec.address]);
    const parked = await this.deps.kube.updateStatus<Address>("vpcips", { ...vip, status: { phase: "Reserved" } });
    objects.addresses.set(vip.spec.address, parked);
    this.deps.log.info("address unassigned", { address: vip.spec.address, eni: p.eniId });
  }

  private async deleteEni(node: string, eniId: string, objects: Objects): Promise<void> {
    const eni = objects.enis.get(node);
    if (!eni) throw new Error(`delete-eni ${eniId}: node ${node} has no VpcENI`);
    const journaled = await this.deps.kube.updateStatus<NodeEni>("vpcenis", {
      ...eni,
      status: { ...eni.status, phase: "Deleting", pending: this.pending("delete-eni", { eniId }) },
    });
    objects.enis.set(node, journaled);
    await this.finishDeleteEni(journaled, objects);
  }

  /** Detaches and deletes the journaled ENI, then the node's VpcENI and NodeENIConfig. */
  async finishDeleteEni(eni: NodeEni, objects: Objects): Promise<void> {
    const { api, kube } = this.deps;
    const p = eni.status?.pending;
    if (p?.action !== "delete-eni" || !p.eniId) throw new Error("finishDeleteEni: no pending delete");
    const cloud = await api.getEni(p.eniId);
    if (cloud?.attachment)
      await api
        .detachEni(p.eniId, cloud.attachment.instanceId, { clientToken: `${p.clientToken}.detach` })
        .catch(async (e: unknown) => {
          if (!taskFailed(e)) throw e;
          // the detach was undone: the next pass detaches again under a new token
          const again = await kube.updateStatus<NodeEni>("vpcenis", {
            ...eni,
            status: { ...eni.status, pending: { ...p, clientToken: randomUUID() } },
          });
          objects.enis.set(eni.metadata.name, again);
          throw e;
        });
    if (cloud) await api.deleteEni(p.eniId);
    await kube.remove("vpcenis", eni.metadata.name);
    await kube.remove("nodeeniconfigs", eni.spec.node);
    objects.enis.delete(eni.metadata.name);
    objects.configs.delete(eni.spec.node);
    this.deps.log.info("node ENI deleted", { node: eni.spec.node, eni: p.eniId });
  }

  /**
   * Journal entries a previous leader left: each is finished with its own token before the
   * pass plans anything, so the rebuilt state matches the cloud.
   */
  async resume(objects: Objects): Promise<number> {
    let n = 0;
    for (const eni of [...objects.enis.values()]) {
      const action = eni.status?.pending?.action;
      if (action !== "create-eni" && action !== "delete-eni") continue;
      try {
        if (action === "create-eni") await this.createEni(eni, objects);
        else await this.finishDeleteEni(eni, objects);
        n++;
      } catch (e) {
        // one node's ENI must not hold the cluster's addresses up: it stays journaled
        this.deps.log.warn("a journaled node ENI could not be finished; the next pass tries again", {
          node: eni.spec.node,
          action,
          error: (e as Error).message,
        });
      }
    }
    // assigns by call (token); addressInUse's bookkeeping is the next pass's (it rebuilds the state)
    const groups = new Map<string, Claim[]>();
    for (const claim of objects.claims.values()) {
      const p = claim.status?.pending;
      if (p?.action === "assign") groups.set(p.clientToken, [...(groups.get(p.clientToken) ?? []), claim]);
    }
    for (const group of groups.values()) {
      for (const r of await this.callAssignGroup(group, objects)) await this.recordAssign(r.claim, r.failed, objects);
      n += group.length;
    }
    for (const vip of [...objects.addresses.values()]) {
      if (vip.status?.pending?.action !== "unassign") continue;
      await this.finishUnassign(vip, objects);
      n++;
    }
    if (n > 0) this.deps.log.info("replayed journal entries of a previous leader", { count: n });
    return n;
  }
}
