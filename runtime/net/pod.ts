// Pod wiring: a veth pair created from the node side with its peer born inside the pod's
// netns (it never exists in the node namespace under the pod's name), then one batch on
// each side. Pod side: IP/32 on eth0, default via 169.254.1.1 answered by a permanent
// neighbour entry for the host veth's MAC (no ARP, no proxy_arp). Node side: /32 scope-link
// route in main plus the two rules.
import type { BatchHandle, Ip } from "./iproute.ts";
import { aliasFor, hostVethName, vethMacs } from "./names.ts";
import { FROM_POD_PRIORITY, POD_GATEWAY, TO_POD_PRIORITY, type PodKey, type PodSpec, type PodWiring } from "./types.ts";

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function assertIpv4(ip: string): void {
  if (!IPV4.test(ip)) throw new Error(`pod IP '${ip}' must be an IPv4 address`);
}

export function wiringOf(pod: PodSpec): PodWiring {
  const macs = vethMacs(pod);
  return {
    network: pod.network,
    containerId: pod.containerId,
    ifname: pod.ifname,
    ip: pod.ip,
    table: pod.table,
    hostVeth: hostVethName(pod),
    hostMac: macs.host,
    podMac: macs.pod,
  };
}

export function ruleLines(ip: string, table: number): string[] {
  return [
    `rule add to ${ip}/32 lookup main pref ${TO_POD_PRIORITY}`,
    `rule add from ${ip}/32 lookup ${table} pref ${FROM_POD_PRIORITY}`,
  ];
}

export function hostRouteLine(ip: string, veth: string): string {
  return `route replace ${ip}/32 dev ${veth} scope link`;
}

/** Node-side batch. Creating the link first means a clash fails before anything else is made. */
export function nodeWireLines(pod: PodSpec, w: PodWiring): string[] {
  return [...nodeLinkLines(pod), ...nodeRouteLines(pod)];
}

/** The node side's first part, which needs no IP: the veth pair, its peer born in the pod's netns. */
export function nodeLinkLines(pod: PodKey & { netns: string }): string[] {
  if (!pod.netns.startsWith("/")) throw new Error(`pod netns '${pod.netns}' must be an absolute path`);
  if (/\s/.test(pod.netns)) throw new Error(`pod netns '${pod.netns}' must not contain white space`);
  const veth = hostVethName(pod);
  const macs = vethMacs(pod);
  return [
    `link add ${veth} address ${macs.host} type veth peer name ${pod.ifname} address ${macs.pod} netns ${pod.netns}`,
    `link set dev ${veth} alias "${aliasFor(pod)}"`,
    `link set dev ${veth} up`,
  ];
}

/** The node side's second part: the pod IP's route and rules. */
export function nodeRouteLines(pod: PodSpec): string[] {
  return [hostRouteLine(pod.ip, hostVethName(pod)), ...ruleLines(pod.ip, pod.table)];
}

export function podWireLines(pod: PodSpec, w: PodWiring): string[] {
  const dev = pod.ifname;
  return [
    `link set dev ${dev} up`,
    `addr add ${pod.ip}/32 dev ${dev}`,
    `route add ${POD_GATEWAY} dev ${dev} scope link`,
    `route add default via ${POD_GATEWAY} dev ${dev}`,
    `neigh replace ${POD_GATEWAY} lladdr ${w.hostMac} dev ${dev} nud permanent`,
  ];
}

/** Deleting the host end deletes the pod end too, wherever the netns went. */
export function unwireLines(key: PodKey, ip: string | undefined, tables: number[]): string[] {
  const lines = [`link del dev ${hostVethName(key)}`];
  if (ip) {
    lines.push(`route del ${ip}/32 table main`, `rule del to ${ip}/32 pref ${TO_POD_PRIORITY}`);
    for (const t of tables) lines.push(`rule del from ${ip}/32 lookup ${t} pref ${FROM_POD_PRIORITY}`);
    if (tables.length === 0) lines.push(`rule del from ${ip}/32 pref ${FROM_POD_PRIORITY}`);
  }
  return lines;
}

/** What wiring needs of the node namespace: its batches (the data plane may keep one started ahead). */
export type NodeBatches = Pick<Ip, "batch" | "batchForce">;

/**
 * A wiring begun before the pod's IP was known (prepareWire): `node` has been fed
 * nodeLinkLines and waits for the rest; `pod` is the pod side's process, not fed yet.
 */
export interface Begun {
  node: BatchHandle;
  pod: BatchHandle;
}

/** Starts a wiring's processes and makes the veth pair, before the IP is known. */
export function beginWire(node: BatchHandle, podNs: Ip, pod: PodKey & { netns: string }): Begun {
  const podSide = podNs.startBatch();
  try {
    node.feed(nodeLinkLines(pod));
  } catch (err) {
    node.cancel();
    podSide.cancel();
    throw err;
  }
  return { node, pod: podSide };
}

/** A begun wiring that will not be finished: what its node side made goes. */
export async function abandonWire(node: NodeBatches, begun: Begun, pod: PodKey): Promise<void> {
  begun.pod.cancel();
  const del = `link del dev ${hostVethName(pod)}`;
  try {
    // the same process deletes the link it made
    await begun.node.run([del]);
  } catch (err) {
    // It ended early. When its first line (the link add) failed, a link of that name is
    // another's and stays; when a later one did, the link is this wiring's and goes.
    const failed = /Command failed -:(\d+)/.exec((err as Error).message);
    if (failed && Number(failed[1]) > 1) await node.batchForce([del]);
  }
}

/** `begun`: the processes started and the veth made ahead (prepareWire); else all happens here. */
export async function wire(node: NodeBatches, podNs: Ip, pod: PodSpec, begun?: Begun): Promise<PodWiring> {
  assertIpv4(pod.ip);
  const w = wiringOf(pod);
  // the pod-side process starts while the node side runs (saves its start-up, ~1 ms)
  const podSide = begun?.pod ?? podNs.startBatch();
  try {
    if (begun) await begun.node.run(nodeRouteLines(pod));
    else await node.batch(nodeWireLines(pod, w));
    await podSide.run(podWireLines(pod, w));
  } catch (err) {
    podSide.cancel();
    // all or nothing: a half-wired pod would pass traffic one way or shadow a later ADD
    await node.batchForce(unwireLines(pod, pod.ip, [pod.table]));
    throw err;
  }
  return w;
}
