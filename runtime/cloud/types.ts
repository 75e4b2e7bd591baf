// What the node runtime needs from the VPC API, independent of the SDK behind it.

export type EniState = "PENDING" | "AVAILABLE" | "ATTACHING" | "DETACHING" | "DELETING";

export interface EniIp {
  ip: string;
  primary: boolean;
  /** PENDING while an assign runs, DELETING while an unassign runs, else AVAILABLE. */
  state: string;
}

export interface Eni {
  id: string;
  vpcId: string;
  subnetId: string;
  zone: string;
  /** Lower case, as the data plane and the metadata service spell it (the API prints upper case). */
  mac: string;
  primary: boolean;
  state: EniState;
  primaryIp: string;
  /** Secondary IPs in any state, in the order the cloud lists them. */
  secondaryIps: string[];
  ips: EniIp[];
  securityGroupIds: string[];
  attachment?: { instanceId: string; deviceIndex: number };
  tags: Record<string, string>;
  createdTime: string;
}

export interface Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  zone: string;
  availableIps: number;
  totalIps: number;
}

/**
 * DescribeNetworkInterfaceLimit as reported. Whether the counts include the primary ENI and
 * each ENI's primary IP is not documented; the emulator's default (and vpccni's assumption) is
 * that they do, so pods can use `enis - 1` ENIs of `ipsPerEni - 1` secondary IPs each.
 */
export interface InstanceLimits {
  enis: number;
  ipsPerEni: number;
}

export interface CreateEniRequest {
  subnetId: string;
  /** Security groups of the new ENI; the cloud refuses to attach an ENI without one. */
  securityGroupIds: string[];
  /** Secondary IPs to create it with (more than one call allows are added by AssignPrivateIpAddresses). */
  secondaryIps?: number;
  name?: string;
  /** Node the ENI is for; goes into the node tag so leaked ENIs can be traced. */
  node?: string;
  /** Same token, same answer: replaying a journaled intent cannot create a second ENI. */
  clientToken?: string;
  /**
   * Creation time for the created-at tag, ms. A replay must pass the original time (the
   * journal's), since a ClientToken repeated with different parameters is refused.
   */
  createdAt?: number;
}

export interface AssignRequest {
  count?: number;
  ips?: string[];
  clientToken?: string;
  /**
   * A request of more than 10 IPs makes several calls, one after another: told the IPs of each
   * but the last (the answer brings those) once its task reads SUCCESS, before the next starts.
   */
  onCall?: (ips: string[]) => void;
}

export interface CallOptions {
  clientToken?: string;
}

export interface VpcApi {
  instanceLimits(instanceId: string): Promise<InstanceLimits>;
  /** Every ENI attached (or attaching) to the instance, the primary one included. */
  listEnis(instanceId: string): Promise<Eni[]>;
  /** ENIs by tag (e.g. the cluster tag, to find leaked ones), optionally within one subnet. */
  findEnis(query: { tags?: Record<string, string>; subnetId?: string }): Promise<Eni[]>;
  getEni(eniId: string): Promise<Eni | undefined>;
  /**
   * Creates an ENI with the vpccni tags and waits until it is AVAILABLE. IPs beyond what one
   * call creates are added afterwards; if that fails the ENI is still returned, with fewer
   * secondaryIps than asked for.
   */
  createEni(req: CreateEniRequest): Promise<Eni>;
  /** Attaches and waits until the ENI reads AVAILABLE and attached to the instance. */
  /**
   * `attached` runs once the attach task reads SUCCESS, before the Describe that confirms it
   * (a caller may start the ENI's next task then); not when an earlier attempt did the attach.
   */
  attachEni(eniId: string, instanceId: string, opts?: CallOptions & { attached?: () => void }): Promise<Eni>;
  /** Detaches and waits until it is detached; an ENI already detached from the instance is fine. */
  detachEni(eniId: string, instanceId: string, opts?: CallOptions): Promise<void>;
  /** Deletes and waits until it is gone; an ENI already gone is fine. */
  deleteEni(eniId: string): Promise<void>;
  /**
   * Adds secondary IPs (in calls of at most 10), waits until they are bound and returns them.
   * Throws when nothing was added; when a later call fails, returns what the earlier ones added.
   */
  assignIps(eniId: string, req: AssignRequest): Promise<string[]>;
  /**
   * Removes secondary IPs (IPs already gone count as removed), waits, and returns the removed
   * ones. Throws when nothing was removed; when a later call fails, returns the earlier ones.
   */
  unassignIps(eniId: string, ips: string[]): Promise<string[]>;
  describeSubnets(subnetIds: string[]): Promise<Subnet[]>;
}
