// Types of the non-fixed IP pool engine. Everything here is plain JSON-serialisable data so that
// the node agent can persist a PoolState in SQLite as it is and replay it after a crash.

/** Stamped into every persisted state; bump it (and add a migration) when the shape changes. */
export const POOL_STATE_VERSION = "vpccni-pool/1";

/** Milliseconds since the epoch (or since any origin, as long as one state uses one clock). */
export type Millis = number;

/** A uniform random number in [0, 1). Injected so that the engine stays deterministic. */
export type Rng = () => number;

/** CNI identifies an attachment by (network name, container ID, interface name). */
export interface PodRef {
  network: string;
  containerId: string;
  ifname: string;
}

/** One secondary IP bound to an ENI, as the engine tracks it. */
export interface IpSlot {
  ip: string;
  /** Key of the pod using the IP (see podKey), or null when the IP is idle. */
  pod: string | null;
  /** An idle IP freed by a pod is not handed to another pod before this time (ipCooldown). */
  coolUntil: Millis;
  /** Part of an in-flight release: no pod may get it. */
  releasing: boolean;
}

export interface EniState {
  id: string;
  subnet: string;
  /** The primary ENI carries the node's own address; the engine never uses or counts it. */
  primary: boolean;
  /** Secondary IPs, sorted by address. */
  ips: IpSlot[];
  /** The cloud answered "ip-quota" for this ENI: treat it as at quota until one of its IPs leaves. */
  full: boolean;
  /**
   * A detach + delete is in flight, or its delete failed after the detach worked: the ENI is
   * attached nowhere, so no pod may use it, and the next plan deletes it again (rule 5e).
   */
  deleting: boolean;
}

export interface SubnetState {
  id: string;
  /** Free IPs in the subnet as last reported by the cloud, minus what the engine bound since. */
  available: number;
  /** After "subnet-exhausted" the subnet is not used until this time. */
  pausedUntil: Millis;
}

/** The instance type's quotas, as DescribeNetworkInterfaceLimit reports them for pod use. */
export interface Quota {
  /** ENIs the node may hold for pods; the primary ENI does not count (the agent subtracts it). */
  enis: number;
  /** Secondary IPs per ENI. */
  ipsPerEni: number;
  /** Most IPs one Create/Assign/Unassign call may carry (Tencent: 10). */
  ipsPerCall: number;
}

/** The policy fields the engine uses, with durations in milliseconds. */
export interface PoolSettings {
  minPrebind: number;
  maxPrebind: number;
  releaseIntervalMs: Millis;
  cooldownMs: Millis;
  /**
   * Pod subnets new ENIs and IPs may come from, in the policy's order. The agent lists only
   * those of the node's zone; empty when none is: then nothing is created or bound, and ENIs in
   * other subnets drain.
   */
  subnets: string[];
  /** Lower-only overrides of the quota (policy spec.limits). */
  maxEnisPerNode?: number;
  ipsPerEni?: number;
  /** Bound IPs never go below this (0 for vpccni; MINIMUM_IP_TARGET for the AWS-style comparison). */
  floor: number;
  /**
   * The policy switched vpccni off (spec.enabled: false): no new pod gets an IP, idle IPs and
   * empty ENIs go at once (drain.ts). Absent: false, so states written before it read the same.
   */
  draining?: boolean;
}

export type Action = "bind" | "create-eni" | "release" | "delete-eni";

/** AssignPrivateIpAddresses with SecondaryPrivateIpAddressCount = count. */
export interface BindDecision {
  id: string;
  action: "bind";
  eni: string;
  count: number;
}
/**
 * CreateNetworkInterface with `ips` secondary IPs, then AttachNetworkInterface to this node.
 * Once attached and its link set up, the ENI is in the pool while the operation goes on (its
 * top-up, runtime/pool/top-up.ts): `eni` names it then, and `ips` counts only the IPs still to
 * come, those in the pool being bound already (applyProgress).
 */
export interface CreateEniDecision {
  id: string;
  action: "create-eni";
  subnet: string;
  ips: number;
  eni?: string;
}
/** UnassignPrivateIpAddresses. */
export interface ReleaseDecision {
  id: string;
  action: "release";
  eni: string;
  ips: string[];
}
/** DetachNetworkInterface, then DeleteNetworkInterface. */
export interface DeleteEniDecision {
  id: string;
  action: "delete-eni";
  eni: string;
}
export type Decision = BindDecision | CreateEniDecision | ReleaseDecision | DeleteEniDecision;

/** A decision whose cloud operation has not reported back yet. */
export interface Operation {
  decision: Decision;
  startedAt: Millis;
}

/** Typed cloud failures; runtime/cloud maps Tencent error codes onto these. */
export type ErrorKind =
  | "eni-quota"
  | "ip-quota"
  | "subnet-exhausted"
  | "throttled"
  | "not-found"
  | "auth"
  | "transient";
export const ERROR_KINDS: readonly ErrorKind[] = [
  "eni-quota",
  "ip-quota",
  "subnet-exhausted",
  "throttled",
  "not-found",
  "auth",
  "transient",
];

export interface CloudError {
  kind: ErrorKind;
  message?: string;
}

/** What a decision's cloud operation did. `eni` is required for create-eni, `ips` for bind and create-eni. */
export type OperationResult =
  | { ok: true; eni?: string; ips?: string[] }
  /** `detached`: a delete-eni whose detach worked and whose delete then failed. */
  | { ok: false; error: CloudError; detached?: boolean };

export interface Backoff {
  failures: number;
  until: Millis;
}

export interface PodAssignment {
  ip: string;
  eni: string;
  since: Millis;
}

export interface PoolState {
  version: typeof POOL_STATE_VERSION;
  settings: PoolSettings;
  quota: Quota;
  /** Sorted by id. */
  enis: EniState[];
  /** In the policy's order. */
  subnets: SubnetState[];
  /** podKey -> its IP. Mirrors IpSlot.pod; kept for O(1) CNI DEL and CHECK. */
  pods: Record<string, PodAssignment>;
  /** Pods that asked for an IP and got none yet (podKey -> first ask). They count as demand. */
  waiting: Record<string, Millis>;
  inflight: Operation[];
  nextOpSeq: number;
  /** Release timer: armed when idle IPs first exceed pods + maxPrebind; draining once it fired. */
  release: { dueAt: Millis | null; draining: boolean };
  backoff: Record<Action, Backoff>;
  /** "eni-quota" pauses ENI creation; "auth" pauses every mutation. */
  paused: { createUntil: Millis; allUntil: Millis };
}

/** Extended resource tke.cloud.tencent.com/eni-ip of the Node. */
export interface ExtendedResource {
  allocatable: number;
  capacity: number;
}

export type AllocateResult =
  | { state: PoolState; ok: true; ip: string; eni: string }
  | { state: PoolState; ok: false; error: { code: "no-idle-ip" | "switched-off"; message: string } };

/** The inventory the agent reads from the cloud (DescribeNetworkInterfaces). */
export interface EniInventory {
  id: string;
  subnet: string;
  primary: boolean;
  ips: string[];
}
