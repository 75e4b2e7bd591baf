// The fixed IP allocator's state and decisions. A controller rebuilds the state from the cluster
// objects each pass. Claims and addresses live in one dense table (claim-table.ts: one slot per
// claim and the address it holds, numbers in typed arrays), read through `claims` and
// `addresses` as plain objects made on each read, written by the steps (or putClaim while a
// controller fills a state); as JSON they are the records of the persisted shape
// (`vpccni-fixed/1`: claims by key, addresses by address). Ownership: a step changes the state
// it is given in place and returns that object; a refused step leaves it unchanged. What makes
// the steps fast beyond the table (reservations per subnet, addresses per ENI, a free-address
// cursor) is an index rebuilt from the state on first use or by indexState (state-index.ts).
import type { AddressesView, ClaimsView } from "./claim-table.ts";

export type Millis = number;

/** When a deleted pod's address goes back to the subnet (spec/fixed-ip.md "reclaim"). */
export type Reclaim = { kind: "Immediate" } | { kind: "Never" } | { kind: "After"; ms: Millis };

/** What the pod's annotations ask for (absent = the cluster's reclaim). */
export interface PodAsk {
  /** `tke.cloud.tencent.com/vpc-ip-claim-delete-policy` */
  deletePolicy?: "Immediate" | "Never";
  /** `tke.cloud.tencent.com/claim-expired-duration`, parsed */
  expiredMs?: Millis;
}

export interface SubnetState {
  cidr: string;
  /** The subnet's availability zone (DescribeSubnets); absent when the caller does not know it. */
  zone?: string;
  /** Free addresses in the VPC subnet (DescribeSubnets), kept current by our own decisions. */
  available: number;
  /** Addresses the cloud refused as in use by someone else: never picked again. */
  taken: string[];
}

export interface NodeState {
  subnet: string;
  /** The ENI's IP quota, reserved for the node in its subnet. */
  quota: number;
  /** null while the ENI is being created. */
  eni: string | null;
}

/** One VpcIP: an address the cluster holds. */
export interface AddressState {
  subnet: string;
  claim: string;
  /** The ENI it is assigned on; null when kept for a claim whose node went away. */
  eni: string | null;
}

/** One VpcIPClaim, keyed "namespace/pod". */
export interface ClaimState {
  address: string;
  reclaim: Reclaim;
  /** The node of the running pod; null once the pod is deleted. */
  node: string | null;
  /** When a kept claim expires (After); null while the pod runs or for Never. */
  expiresAt: Millis | null;
  /** The claim object was deleted while the pod ran: release with the pod. */
  deleted: boolean;
}

export interface FixedState {
  version: "vpccni-fixed/1";
  reclaim: Reclaim;
  subnets: Record<string, SubnetState>;
  nodes: Record<string, NodeState>;
  /** VpcIPClaims by "namespace/pod" (persisted as a record of ClaimState). */
  claims: ClaimsView;
  /** The allocation table, the VpcIPs, by address (persisted as a record of AddressState). */
  addresses: AddressesView;
  nextOpSeq: number;
}

/** The state as JSON: the records a controller would persist (JSON.stringify of a FixedState). */
export type PersistedState = Omit<FixedState, "claims" | "addresses"> & {
  claims: Record<string, ClaimState>;
  addresses: Record<string, AddressState>;
};

export type Decision =
  | { id: string; action: "create-eni"; node: string; subnet: string }
  | { id: string; action: "assign"; eni: string; ip: string; claim: string }
  | { id: string; action: "unassign"; eni: string; ip: string }
  | { id: string; action: "delete-eni"; eni: string; node: string };

export interface Refusal {
  code:
    | "no-subnet-fits"
    | "no-subnet-in-zone"
    | "unknown-node"
    | "eni-not-ready"
    | "eni-full"
    | "subnet-full"
    | "wrong-subnet"
    | "claim-in-use";
  message: string;
}

/** A step's outcome: the state given, changed, and its decisions; or the state given, unchanged, and a refusal. */
export type Step =
  | { ok: true; state: FixedState; decisions: Decision[] }
  | { ok: false; state: FixedState; refusal: Refusal };

/** A decision before it gets its operation id. */
export type DecisionInput = Decision extends infer D ? (D extends unknown ? Omit<D, "id"> : never) : never;
