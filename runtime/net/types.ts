// The data plane's contract: what the agent asks of the node's kernel networking. One
// implementation (iproute2, ./dataplane.ts) runs one contract suite in a namespace.

/** Pod default gateway: a link-local address answered by a permanent neighbour entry. */
/**
 * The CVM instance metadata service (metadata.tencentyun.com), which hands the node role's
 * credentials to whoever asks from the node. Pods' traffic to it meets a prohibit route in
 * every ENI table unless the policy sets dataPlane.podMetadataAccess.
 */
export const CVM_METADATA_IP = "169.254.0.23";
export const POD_GATEWAY = "169.254.1.1";

/**
 * Rule priorities. Lower runs first. `to podIP lookup main` must win over the from-pod rule
 * so that pod-to-pod traffic on one node never leaves through an ENI; both sit below the
 * main-table rule (32766). Same numbers as AWS VPC CNI and Terway, so operators who know
 * those recognise them.
 */
export const TO_POD_PRIORITY = 512;
export const FROM_POD_PRIORITY = 1536;

export interface EniSpec {
  /** The cloud ENI's MAC; the link is found by it (names are not stable). */
  mac: string;
  /** Subnet of the ENI, e.g. 10.0.1.0/24. */
  subnetCidr: string;
  /** Subnet gateway (the VPC router), e.g. 10.0.1.1. */
  gateway: string;
  /** The ENI's own primary IP: put on the link as /32 so ARP from the link has a source of its own. */
  primaryIp?: string;
}

export interface EniLink {
  mac: string;
  name: string;
  ifindex: number;
  /** ifindex + routeTableBase (2000 by default). */
  table: number;
}

/** Identity of one attachment, as CNI keys it. */
export interface PodKey {
  network: string;
  containerId: string;
  ifname: string;
}

export interface PodSpec extends PodKey {
  /** Pod network namespace path (CNI_NETNS). */
  netns: string;
  /** Pod IPv4 address (a secondary IP of the ENI). */
  ip: string;
  /** Route table of the ENI that holds the IP. */
  table: number;
}

export interface PodWiring extends PodKey {
  ip: string;
  table: number;
  hostVeth: string;
  hostMac: string;
  podMac: string;
}

export interface DesiredState {
  /** Primary interface (eth0); its rp_filter must be 0 as well. */
  primaryInterface: string;
  enis: EniSpec[];
  pods: PodSpec[];
  /**
   * Pods whose wiring is changing (an ADD or DEL under way): their rules and veths are neither
   * added nor removed by this pass (runtime/agent/pod-activity.ts).
   */
  leaveAlone?: { ips: string[]; veths: string[] };
}

export interface RepairReport {
  /** One line per thing re-created or removed, e.g. "rule from 10.0.1.5 lookup 2003 re-added". */
  fixed: string[];
  /** The sysctls among them, with their values before (switching off puts them back). */
  sysctls?: SysctlChange[];
}

/** A kernel parameter the data plane wrote: its value before and the value written. */
export interface SysctlChange {
  key: string;
  before: string;
  after: string;
}

export interface DataPlane {
  /**
   * rp_filter 0 on all, default, the primary interface and the given ENIs; ip_forward 1.
   * Returns what it changed, so that switching off can put the old values back.
   */
  ensureSysctls(primaryInterface: string, eniLinks: string[]): Promise<SysctlChange[]>;
  /** Switching off: the values before, where a sysctl still holds the one written (sysctls.ts). */
  restoreSysctls(changes: readonly SysctlChange[]): Promise<SysctlChange[]>;
  /**
   * Switching off, once no pod and no ENI is left: removes whatever vpccni still has in the
   * node namespace (rules at its priorities, routes in ENI tables, host veths it made).
   * Returns one line per thing removed.
   */
  removeLeftovers(): Promise<string[]>;
  /** Finds the ENI's link by MAC, brings it up and fills its route table. Idempotent. */
  setupEni(eni: EniSpec): Promise<EniLink>;
  /** Empties the ENI's route table (the link itself goes with the detach). */
  teardownEni(mac: string): Promise<void>;
  /** ENI links present on the node, by MAC (lowercase). */
  listEnis(macs: string[]): Promise<EniLink[]>;
  /**
   * Creates the veth pair, addresses, routes, neighbour entry and rules. All or nothing.
   * The IP must not belong to another live attachment: leftovers for it (rules, route, a
   * veth of the same key after a crash) are removed and the wiring retried once.
   */
  wirePod(pod: PodSpec): Promise<PodWiring>;
  /**
   * Removes everything wirePod made; succeeds when some or all of it is already gone.
   * Routes and rules are gone when it resolves (the from-pod rule whatever table it names);
   * the host veth may go a moment later (settle() waits).
   */
  unwirePod(key: PodKey, ip?: string): Promise<void>;
  /** Waits for background veth deletions (agent shutdown, tests). */
  settle(): Promise<void>;
  /** Releases what the data plane keeps open (its netlink socket; agent shutdown). */
  close?(): void;
  /** What is wrong with a wired pod; empty when all is in place. */
  checkPod(pod: PodSpec): Promise<string[]>;
  /** Pods wired on this node, read back from the kernel. */
  listPods(): Promise<PodWiring[]>;
  /** Makes the node side match `desired`: re-creates missing sysctls, routes and rules, removes stale ones. */
  /** `desired` as a function: asked after the kernel was observed, so that it is not older. */
  repair(desired: DesiredState | (() => DesiredState)): Promise<RepairReport>;
}
