// The emulator's fabric hook, played by the network test bed: cloud state becomes links and
// routes in namespaces, so a packet only flows when the cloud and the node's routing agree.
//   attach   -> `ethN` with the ENI's MAC in the node namespace, its veth peer in `vpc`,
//               the subnet gateway on the vpc router, the ENI's primary IP routed to the peer
//   assign   -> each secondary IP routed (/32) in `vpc` to the ENI's peer, with a permanent
//               neighbour entry for the ENI's MAC (the VPC delivers by MAC, it never ARPs)
//   unassign / detach undo it.
import type { Fabric, FabricEni, FabricInstance } from "../emulator/fabric.ts";
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

  private async plug(eni: FabricEni, node: NodeNs, link: string, vpcPeer: string): Promise<void> {
    const vpc = this.bed.vpc;
    // The ENI's link, then the router's side in one batch: a few processes per attach, not one
    // per IP (the emulator completes its tasks one after another, so every spawn here delays
    // the next task's answer).
    await this.bed.addVethPair(node.ns, link, vpc, vpcPeer, { mac: eni.mac, up: false });
    await this.bed.sysctls(vpc, [
      // the VPC router checks no source path (a cloud VPC does its own anti-spoofing)
      [`net.ipv4.conf.${vpcPeer}.rp_filter`, "0"],
      ["net.ipv4.conf.all.rp_filter", "0"],
      // like a cloud VPC (and the bed's eth0 ports), the router answers ARP for the whole
      // subnet: the ENI's subnet route sends same-subnet traffic straight to the link
      [`net.ipv4.conf.${vpcPeer}.proxy_arp`, "1"],
    ]);
    await this.bed.ipBatch(vpc, [
      `link set ${vpcPeer} up`,
      ...(eni.gateway ? [`addr replace ${eni.gateway}/32 dev lo`] : []),
      ...routeLines(vpcPeer, eni.mac, [eni.primaryIp, ...eni.secondaryIps].filter(Boolean)),
    ]);
    // up last: the node sees its link once the router's side is ready, as a hotplug shows it
    await this.bed.ip(node.ns, "link", "set", link, "up");
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
    await this.bed.ipBatch(this.bed.vpc, routeLines(a.vpcPeer, a.mac, ips));
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
function routeLines(peer: string, mac: string, ips: string[]): string[] {
  return ips.flatMap((ip) => [
    `route replace ${ip}/32 dev ${peer}`,
    `neigh replace ${ip} lladdr ${mac} dev ${peer} nud permanent`,
  ]);
}
