// What the real-node suites share: a pod's sandbox in its node's containerd (its netns, for a
// TCP check from inside) and whether an address is in a CIDR.
import type { PodStatus } from "../../sandbox/containerd.ts";
import { ipToInt, parseCidr } from "../../sandbox/ipv4.ts";
import type { KubeletNode } from "../../sandbox/kubelet.ts";

export interface ApiPodRef {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
}

/** The pod's ready sandbox on its node. */
export async function sandboxOf(
  nodes: readonly KubeletNode[],
  p: ApiPodRef,
): Promise<{ node: KubeletNode; sandbox: PodStatus }> {
  const node = nodes.find((n) => n.name === p.spec.nodeName);
  if (!node) throw new Error(`pod ${p.metadata.name} is on ${p.spec.nodeName}, not a test node`);
  for (const id of await node.runtime.podIds()) {
    const s = await node.runtime.inspectPod(id);
    if (s.uid === p.metadata.uid && s.state === "SANDBOX_READY") return { node, sandbox: s };
  }
  throw new Error(`no ready sandbox of ${p.metadata.name} on ${node.name}`);
}

export function inCidr(ip: string, cidr: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (ipToInt(ip) & mask) >>> 0 === (ipToInt(base) & mask) >>> 0;
}
