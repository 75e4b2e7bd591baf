// Pod wiring: a veth pair created from the node side with its peer born inside the pod's
// netns (it never exists in the node namespace under the pod's name), then the rest on each
// side, through rtnetlink. Pod side: IP/32 on eth0, default via 169.254.1.1 answered by a permanent
// neighbour entry for the host veth's MAC (no ARP, no proxy_arp). Node side: /32 scope-link
// route in main plus the two rules.
import { closeFd, Netlink, openNetns, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN } from "./netlink.ts";
import { aliasFor, hostVethName, vethMacs } from "./names.ts";
import { FROM_POD_PRIORITY, POD_GATEWAY, TO_POD_PRIORITY, type PodKey, type PodSpec, type PodWiring } from "./types.ts";

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isIpv4(ip: string): boolean {
  return IPV4.test(ip);
}

export function assertIpv4(ip: string): void {
  if (!isIpv4(ip)) throw new Error(`pod IP '${ip}' must be an IPv4 address`);
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

export function hostRouteLine(ip: string, veth: string): string {
  return `route replace ${ip}/32 dev ${veth} scope link`;
}

/** Deleting the host end deletes the pod end too, wherever the netns went. */
export function linkDelLine(key: PodKey): string {
  return `link del dev ${hostVethName(key)}`;
}

/**
 * The pod IP's route and rules go, through rtnetlink; what is gone already is no error. The
 * from-pod rule goes whatever table it looks up (one left by a crash may name another). The
 * veth is not deleted here: its deletion waits for an RCU grace period (15-45 ms), which the
 * caller runs in a process of its own rather than hold this thread.
 */
export function unwireRoutes(node: Netlink, ip: string): void {
  assertIpv4(ip);
  // Each removal is tried whatever the others did (as `ip -force -batch` did); the first
  // refusal is thrown once all were tried.
  const errors: unknown[] = [];
  const attempt = (del: () => void) => {
    try {
      del();
    } catch (error) {
      errors.push(error);
    }
  };
  attempt(() => node.routeDel({ ip, len: 32 }, RT_TABLE_MAIN));
  // More than one only after a crash left one behind; bounded all the same.
  attempt(() => {
    for (let i = 0; i < 8 && node.ruleDel({ dst: ip, priority: TO_POD_PRIORITY }); i++);
  });
  attempt(() => {
    for (let i = 0; i < 8 && node.ruleDel({ src: ip, priority: FROM_POD_PRIORITY }); i++);
  });
  if (errors.length > 0) throw errors[0];
}

/**
 * Wires the pod through rtnetlink (netlink.ts): no process is started. Node side, on `node`:
 * the veth pair (its peer born in the pod's netns, so that name never exists here), alias and
 * up, the /32 route and the two rules. Pod side, on a socket opened in the pod's netns: eth0
 * up, the IP, the gateway's route, the default route and the gateway's permanent neighbour
 * entry. Creating the link first means a clash fails before anything else is made. Throws on
 * the first refusal; the caller removes what was made (all or nothing).
 */
export function wire(node: Netlink, pod: PodSpec): PodWiring {
  assertIpv4(pod.ip);
  if (!pod.netns.startsWith("/")) throw new Error(`pod netns '${pod.netns}' must be an absolute path`);
  const w = wiringOf(pod);
  const alias = aliasFor(pod);
  const podNs = openNetns(pod.netns);
  let inPod: Netlink | undefined;
  try {
    node.linkAddVeth(w.hostVeth, w.hostMac, pod.ifname, w.podMac, podNs);
    node.linkUp(w.hostVeth, alias);
    const host = node.linkIndex(w.hostVeth);
    node.routeAdd({ dst: { ip: pod.ip, len: 32 }, oif: host, scope: RT_SCOPE_LINK, table: RT_TABLE_MAIN }, true);
    node.ruleAdd({ dst: pod.ip, table: RT_TABLE_MAIN, priority: TO_POD_PRIORITY });
    node.ruleAdd({ src: pod.ip, table: pod.table, priority: FROM_POD_PRIORITY });
    inPod = Netlink.openIn(podNs);
    inPod.linkUp(pod.ifname);
    const dev = inPod.linkIndex(pod.ifname);
    inPod.addrAdd(dev, pod.ip, 32);
    inPod.routeAdd({ dst: { ip: POD_GATEWAY, len: 32 }, oif: dev, scope: RT_SCOPE_LINK, table: RT_TABLE_MAIN });
    inPod.routeAdd({ gateway: POD_GATEWAY, oif: dev, scope: RT_SCOPE_UNIVERSE, table: RT_TABLE_MAIN });
    inPod.neighReplace(dev, POD_GATEWAY, w.hostMac);
  } finally {
    inPod?.close();
    closeFd(podNs);
  }
  return w;
}
