// The emulator's fabric hook, played by the network test bed: cloud state becomes links and
// routes in namespaces, so a packet only flows when the cloud and the node's routing agree.
//   attach   -> `ethN` with the ENI's MAC in the node namespace, its veth peer in `vpc`,
//               the subnet gateway on the vpc router, the ENI's primary IP routed to the peer
//   assign   -> each secondary IP routed (/32) in `vpc` to the ENI's peer, with a permanent
//               neighbour entry for the ENI's MAC (the VPC delivers by MAC, it never ARPs)
//   unassign / detach undo it.
import { randomBytes } from "node:crypto";
import type { Fabric, FabricEni, FabricInstance } from "../emulator/fabric.ts";
import {
  closeFd,
  EEXIST,
  Netlink,
  NetlinkError,
  openNetns,
  RT_SCOPE_LINK,
  RT_TABLE_MAIN,
} from "../runtime/net/netlink.ts";
import type { NodeNs, TestBed } from "./test-bed.ts";

export interface AttachedEni {
  eniId: string;
  mac: string;
  node: NodeNs;
  /** Link name in the node namespace (eth1, eth2, ...). */
  link: string;
  /** Its veth peer in the vpc namespace. */
  vpcPeer: string;
}

export class NetnsFabric implements Fabric {
  private readonly attached = new Map<string, AttachedEni>();
  /** Every hook call, in order, for tests that assert what the cloud asked for. */
  readonly calls: string[] = [];

  /** `nodeFor` maps an emulated instance to the node namespace that plays it. */
  constructor(
    private readonly bed: TestBed,
    private readonly nodeFor: (instance: FabricInstance) => NodeNs | undefined,
  ) {}

  eni(eniId: string): AttachedEni | undefined {
    return this.attached.get(eniId);
  }

  async onAttach(eni: FabricEni, instance: FabricInstance): Promise<void> {
    this.calls.push(`attach ${eni.eniId} ${instance.instanceId}`);
    const node = this.nodeFor(instance);
    if (!node) throw new Error(`no test-bed node plays instance ${instance.instanceId}`);
    if (this.attached.has(eni.eniId)) return;
    const index = eni.deviceIndex ?? this.nextIndex(node);
    const link = `eth${index}`;
    const vpcPeer = `${node.name}-e${index}`;
    // Taken before the first await: the emulator completes other ENIs' attaches meanwhile, and
    // each must get its own link name.
    this.attached.set(eni.eniId, { eniId: eni.eniId, mac: eni.mac.toLowerCase(), node, link, vpcPeer });
    try {
      await this.plug(eni, node, link, vpcPeer);
    } catch (e) {
      this.attached.delete(eni.eniId);
      throw e;
    }
  }

  /**
   * The ENI's link and the router's side, through rtnetlink from this process: the emulator
   * completes a task only once its hook returned, and holds every other request meanwhile, so a
   * hook that started processes delayed every answer of the cloud by their start-up (a cloud
   * attaches ENIs side by side and answers all the while). The router's ports take rp_filter 0
   * and proxy ARP from its namespace's defaults (TestBed.create).
   */
  private async plug(eni: FabricEni, node: NodeNs, link: string, vpcPeer: string): Promise<void> {
    const vpcPath = netnsFile(this.bed.vpc);
    const onNode = Netlink.open(netnsFile(node.ns));
    try {
      const vpcFd = openNetns(vpcPath);
      try {
        onNode.linkAddVeth(link, eni.mac, vpcPeer, localMac(), vpcFd);
      } finally {
        closeFd(vpcFd);
      }
      const vpc = Netlink.open(vpcPath);
      try {
        vpc.linkUp(vpcPeer);
        if (eni.gateway) {
          try {
            vpc.addrAdd(vpc.linkIndex("lo"), eni.gateway, 32);
          } catch (e) {
            if (!(e instanceof NetlinkError && e.errno === EEXIST)) throw e;
          }
        }
        routeIps(vpc, vpcPeer, eni.mac, [eni.primaryIp, ...eni.secondaryIps].filter(Boolean));
      } finally {
        vpc.close();
      }
      // up last: the node sees its link once the router's side is ready, as a hotplug shows it
      onNode.linkUp(link);
    } finally {
      onNode.close();
    }
  }

  async onDetach(eni: FabricEni, instance: FabricInstance): Promise<void> {
    this.calls.push(`detach ${eni.eniId} ${instance.instanceId}`);
    const a = this.attached.get(eni.eniId);
    if (!a) return;
    this.attached.delete(eni.eniId);
    // deleting the peer deletes ethN in the node too, and the kernel drops the /32 routes
    await this.bed.ip(this.bed.vpc, "link", "del", a.vpcPeer);
  }

  async onAssign(eni: FabricEni, ips: string[]): Promise<void> {
    this.calls.push(`assign ${eni.eniId} ${ips.join(",")}`);
    const a = this.attached.get(eni.eniId);
    if (!a) return; // a detached ENI's IPs are bound in the cloud but reach nothing
    const vpc = Netlink.open(netnsFile(this.bed.vpc));
    try {
      routeIps(vpc, a.vpcPeer, a.mac, ips);
    } finally {
      vpc.close();
    }
  }

  async onUnassign(eni: FabricEni, ips: string[]): Promise<void> {
    this.calls.push(`unassign ${eni.eniId} ${ips.join(",")}`);
    const a = this.attached.get(eni.eniId);
    if (!a) return;
    const lines = ips.flatMap((ip) => [`route del ${ip}/32 dev ${a.vpcPeer}`, `neigh del ${ip} dev ${a.vpcPeer}`]);
    await this.bed.ipBatch(this.bed.vpc, lines, true);
  }

  private nextIndex(node: NodeNs): number {
    const used = new Set([...this.attached.values()].filter((a) => a.node === node).map((a) => a.link));
    let i = 1;
    while (used.has(`eth${i}`)) i++;
    return i;
  }
}

/** The router's /32 route and permanent neighbour entry for each IP of an ENI. */
function routeIps(vpc: Netlink, peer: string, mac: string, ips: string[]): void {
  const oif = vpc.linkIndex(peer);
  for (const ip of ips) {
    vpc.routeAdd({ dst: { ip, len: 32 }, oif, scope: RT_SCOPE_LINK, table: RT_TABLE_MAIN }, true);
    vpc.neighReplace(oif, ip, mac);
  }
}

/** A namespace of the bed as a file, as `ip netns add` made it. */
function netnsFile(ns: string): string {
  return `/var/run/netns/${ns}`;
}

/** A random unicast, locally administered MAC for the router's side of an ENI's link. */
function localMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}
