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
}

const iso = (ms: number) => new Date(ms).toISOString();

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
        const eniId = await this.createEni(eni, objects);
        return eniReady(state, d.node, eniId);
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
    const made = await api.createEni({
      subnetId: eni.spec.subnet,
      securityGroupIds: primary.securityGroupIds,
      secondaryIps: 0,
      node,
      name: `vpccni-fixed-${node}`.slice(0, 60),
      clientToken: p.clientToken,
      createdAt: Date.parse(p.startedAt),
    });
    const attached = await api.attachEni(made.id, instance, { clientToken: `${p.clientToken}.attach` });
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

  private async assign(state: FixedState, d: Extract<Decision, { action: "assign" }>, objects: Objects) {
    const { kube } = this.deps;
    const [namespace = "", name = ""] = d.claim.split("/");
    const a = state.addresses[d.ip];
    if (!a) throw new Error(`assign ${d.ip}: not in the allocation table`);
    // The lock: one VpcIP per address.
    let vip = objects.addresses.get(d.ip);
    if (!vip) {
      vip = await kube.create<Address>("vpcips", {
        metadata: { name: d.ip },
        spec: { address: d.ip, subnet: a.subnet, claim: { namespace, name } },
      });
      objects.addresses.set(d.ip, vip);
    } else if (vip.spec.claim.namespace !== namespace || vip.spec.claim.name !== name) {
      throw new Conflict(`VpcIP ${d.ip} belongs to ${vip.spec.claim.namespace}/${vip.spec.claim.name}, not ${d.claim}`);
    }
    const claim = objects.claims.get(d.claim);
    if (!claim) throw new Error(`assign ${d.ip}: claim ${d.claim} has no object`);
    const node = state.claims[d.claim]?.node ?? undefined;
    const journaled = await kube.updateStatus<Claim>("vpcipclaims", {
      ...claim,
      status: {
        ...claim.status,
        phase: "Pending",
        address: d.ip,
        subnet: a.subnet,
        ...(node ? { node } : {}),
        eniId: d.eni,
        pending: this.pending("assign", { eniId: d.eni, address: d.ip }),
      },
    });
    objects.claims.set(d.claim, journaled);
    return this.finishAssign(state, journaled, objects);
  }

  /** Assigns the journaled address (again: the same token gets the first answer). */
  async finishAssign(state: FixedState, claim: Claim, objects: Objects): Promise<FixedState> {
    const { api, kube } = this.deps;
    const p = claim.status?.pending;
    if (p?.action !== "assign" || !p.eniId || !p.address) throw new Error("finishAssign: no pending assign");
    const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
    let next = state;
    let failed: string | null = null;
    try {
      await api.assignIps(p.eniId, { ips: [p.address], clientToken: p.clientToken });
    } catch (e) {
      if (!(e instanceof CloudError) || e.kind !== "address-in-use") throw e;
      // another tenant of the VPC holds it: never picked again; the pod's next pass gets another
      next = addressInUse(state, p.address);
      failed = `address ${p.address} is used outside the cluster; picking another`;
      await kube.remove("vpcips", p.address);
      objects.addresses.delete(p.address);
    }
    const { pending: _done, ...rest } = claim.status ?? {};
    const status = failed
      ? { ...rest, phase: "Pending" as const, address: undefined, eniId: undefined, message: failed }
      : rest;
    objects.claims.set(key, await kube.updateStatus<Claim>("vpcipclaims", { ...claim, status }));
    if (!failed) {
      const vip = objects.addresses.get(p.address);
      if (vip) {
        const updated = await kube.updateStatus<Address>("vpcips", {
          ...vip,
          status: { phase: "Attached", eniId: p.eniId, ...(claim.status?.node ? { node: claim.status.node } : {}) },
        });
        objects.addresses.set(p.address, updated);
      }
      this.deps.log.info("address assigned", { claim: key, address: p.address, eni: p.eniId });
    } else this.deps.log.warn("address in use outside the cluster", { claim: key, address: p.address });
    return next;
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
      await api.detachEni(p.eniId, cloud.attachment.instanceId, { clientToken: `${p.clientToken}.detach` });
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
      if (action === "create-eni") await this.createEni(eni, objects);
      else if (action === "delete-eni") await this.finishDeleteEni(eni, objects);
      else continue;
      n++;
    }
    for (const claim of [...objects.claims.values()]) {
      if (claim.status?.pending?.action !== "assign") continue;
      // the state argument only matters for addressInUse, which the next pass rebuilds anyway
      await this.finishAssign(emptyState(), claim, objects);
      n++;
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

function emptyState(): FixedState {
  return {
    version: "vpccni-fixed/1",
    reclaim: { kind: "Never" },
    subnets: {},
    nodes: {},
    claims: {},
    addresses: {},
    nextOpSeq: 1,
  };
}
