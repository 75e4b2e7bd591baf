// The allocator's state rebuilt from the cluster objects at the start of every pass (pure). The
// objects are the truth: a VpcIP (named after the address) says which claim holds an address and
// on which ENI; a VpcENI says which node has which ENI; a claim says where its pod runs. Nothing
// the controller keeps in memory is needed to carry on after a crash or a change of leader.
import type { Subnet } from "../cloud/types.ts";
import {
  claimKey,
  createState,
  effectiveReclaim,
  type FixedState,
  type PodAsk,
  putClaim,
  type Reclaim,
} from "../fixed/index.ts";
import type { NodeENIConfig, VpcENI, VpcIP, VpcIPClaim } from "../../schema/fixed-ip-crds.ts";
import { parseDuration } from "../../schema/duration.ts";
import type { KubeObject, NodeInfo, PodInfo } from "../kube/fixed-client.ts";

export type Claim = KubeObject<VpcIPClaim["spec"], NonNullable<VpcIPClaim["status"]>>;
export type Address = KubeObject<VpcIP["spec"], NonNullable<VpcIP["status"]>>;
export type NodeEni = KubeObject<VpcENI["spec"], NonNullable<VpcENI["status"]>>;
export type NodeConfig = KubeObject<NodeENIConfig["spec"], NonNullable<NodeENIConfig["status"]>>;

/** Everything one pass reads. */
export interface Snapshot {
  nodes: NodeInfo[];
  /** Pods that get their IP from vpccni and are bound to a node. */
  pods: PodInfo[];
  claims: Claim[];
  addresses: Address[];
  enis: NodeEni[];
  configs: NodeConfig[];
  /** The policy's subnets as the cloud describes them now. */
  subnets: Subnet[];
}

/** A VpcIP whose claim object is gone, or holds another address: released like a deleted claim. */
export const ORPHAN_PREFIX = "orphan:";

export const keyOf = (o: { metadata: { namespace?: string; name: string } }) =>
  claimKey({ namespace: o.metadata.namespace ?? "", name: o.metadata.name });

/** The pod's reclaim annotations, as a claim's spec records them. */
export function askOf(spec: Claim["spec"] | undefined): PodAsk {
  const ms = spec?.expiredDuration === undefined ? undefined : parseDuration(spec.expiredDuration);
  return {
    ...(spec?.deletePolicy ? { deletePolicy: spec.deletePolicy } : {}),
    ...(ms !== undefined ? { expiredMs: ms } : {}),
  };
}

/** An address counts as on an ENI only once the cloud said so (phase Attached). */
function eniOf(a: Address): string | null {
  return a.status?.phase === "Attached" && a.status.eniId ? a.status.eniId : null;
}

export function stateFromObjects(snapshot: Snapshot, reclaim: Reclaim): FixedState {
  const state = createState({
    reclaim,
    subnets: Object.fromEntries(
      snapshot.subnets.map((s) => [s.id, { cidr: s.cidr, available: s.availableIps, zone: s.zone }]),
    ),
  });
  for (const e of snapshot.enis) {
    // the ENI's own address is the cloud's, not the cluster's to give
    const own = e.status?.primaryIP;
    const subnet = state.subnets[e.spec.subnet];
    if (own && subnet && !subnet.taken.includes(own)) subnet.taken.push(own);
    state.nodes[e.spec.node] = {
      subnet: e.spec.subnet,
      quota: e.spec.reservedIPs,
      eni: e.status?.phase === "Attached" && e.status.eniId ? e.status.eniId : null,
    };
  }
  const claims = new Map(snapshot.claims.map((c) => [keyOf(c), c]));
  const eniNode = new Map(Object.entries(state.nodes).map(([node, n]) => [n.eni, node]));
  // An address whose claim names it (or whose claim has no address yet: the crash window between
  // the VpcIP and the claim's status) belongs to that claim; any other is an orphan.
  const taken = new Set<string>();
  const sorted = [...snapshot.addresses].sort((a, b) => {
    const named = (x: Address) => claims.get(claimKey(x.spec.claim))?.status?.address === x.spec.address;
    return Number(named(b)) - Number(named(a)) || a.spec.address.localeCompare(b.spec.address);
  });
  for (const a of sorted) {
    const ip = a.spec.address;
    const key = claimKey(a.spec.claim);
    const claim = claims.get(key);
    const mine = claim !== undefined && !taken.has(key) && (claim.status?.address ?? ip) === ip;
    const owner = mine ? key : `${ORPHAN_PREFIX}${ip}`;
    const eni = eniOf(a);
    const where = { address: ip, subnet: a.spec.subnet, eni };
    if (!mine) {
      putClaim(state, owner, { ...where, reclaim: { kind: "Immediate" }, node: null, expiresAt: null, deleted: true });
      continue;
    }
    taken.add(key);
    const s = claim.status;
    // Bound on a node whose ENI holds the address: the pod runs there. Anything else: kept.
    const node = s?.phase === "Bound" && s.node && eni !== null && eniNode.get(eni) === s.node ? s.node : null;
    const expiresAt = s?.expiresAt ? Date.parse(s.expiresAt) : null;
    putClaim(state, key, {
      ...where,
      reclaim: effectiveReclaim(reclaim, askOf(claim.spec)),
      node,
      expiresAt: node === null && Number.isFinite(expiresAt) ? expiresAt : null,
      deleted: claim.metadata.deletionTimestamp !== undefined,
    });
  }
  for (const subnet of Object.values(state.subnets)) subnet.taken.sort();
  // Addresses on an ENI are out of the VPC's free count already; parked ones are not (headroom).
  return state;
}
