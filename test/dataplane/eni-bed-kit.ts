// A two-node world for data-plane tests: the test bed, the netns fabric playing the cloud's
// attach/assign, and one IprouteDataPlane per node namespace.
import { IprouteDataPlane, type EniLink, type EniSpec } from "../../runtime/net/index.ts";
import type { FabricEni, FabricInstance } from "../../emulator/fabric.ts";
import { NetnsFabric } from "../../sandbox/vpc-fabric.ts";
import { createTestBed, type NodeNs, type TestBed } from "../../sandbox/test-bed.ts";

export const POD_SUBNET = "10.231.8.0/24";
export const POD_GATEWAY_VPC = "10.231.8.1";

export interface EniBedNode {
  node: NodeNs;
  dp: IprouteDataPlane;
  instance: FabricInstance;
  eni: FabricEni;
  eniSpec: EniSpec;
  link: EniLink;
}

export interface EniBed {
  bed: TestBed;
  fabric: NetnsFabric;
  nodes: EniBedNode[];
}

function mac(n: number, k: number): string {
  return `02:00:0a:e8:${n.toString(16).padStart(2, "0")}:${k.toString(16).padStart(2, "0")}`;
}

/** `count` nodes, each with one attached secondary ENI (primary IP 10.231.8.<10n>) set up. */
export async function makeEniBed(count = 2): Promise<EniBed> {
  const bed = await createTestBed();
  try {
    const instances = new Map<string, NodeNs>();
    const fabric = new NetnsFabric(bed, (i) => instances.get(i.instanceId));
    const nodes: EniBedNode[] = [];
    for (let n = 1; n <= count; n++) {
      const node = await bed.addNode();
      const instance: FabricInstance = {
        instanceId: `ins-${n}`,
        zone: "ap-test-1",
        primaryIp: node.ip,
        primaryMac: mac(n, 0),
      };
      instances.set(instance.instanceId, node);
      const eni: FabricEni = {
        eniId: `eni-${n}`,
        mac: mac(n, 1),
        vpcId: "vpc-t",
        subnetId: "subnet-pods",
        cidrBlock: POD_SUBNET,
        gateway: POD_GATEWAY_VPC,
        primaryIp: `10.231.8.${10 * n}`,
        secondaryIps: [],
        deviceIndex: 1,
      };
      await fabric.onAttach(eni, instance);
      const dp = new IprouteDataPlane({ netns: node.ns });
      const eniSpec: EniSpec = {
        mac: eni.mac,
        subnetCidr: POD_SUBNET,
        gateway: POD_GATEWAY_VPC,
        primaryIp: eni.primaryIp,
      };
      const link = await dp.setupEni(eniSpec);
      await dp.ensureSysctls("eth0", [link.name]);
      nodes.push({ node, dp, instance, eni, eniSpec, link });
    }
    return { bed, fabric, nodes };
  } catch (err) {
    await bed.destroy();
    throw err;
  }
}

/** rx packets of a link in a namespace, from `ip -s -json`. */
export async function rxPackets(bed: TestBed, ns: string, dev: string): Promise<number> {
  const out = JSON.parse(await bed.ip(ns, "-s", "-json", "link", "show", "dev", dev)) as {
    stats64: { rx: { packets: number } };
  }[];
  return out[0]!.stats64.rx.packets;
}

export async function ping(bed: TestBed, ns: string, ip: string, count = 1): Promise<boolean> {
  // -W bounds a failure; success does not depend on it (replies take microseconds here)
  const r = await bed.exec(ns, ["ping", "-n", "-q", "-c", String(count), "-i", "0.05", "-W", "2", ip]);
  return r.code === 0;
}
