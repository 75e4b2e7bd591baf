// Fixed IP mode, the node's reading of the cluster objects (pure): may this pod use its claim's
// address here yet, and if not, what the CNI error says. The contract with the controller
// (docs/fixed-ip.md "Node side"): a claim is usable once phase is Bound, node is this node,
// address and eniId are set and, when both sides know it, the pod's uid matches.
import type { NodeENIConfig, VpcIPClaim } from "../../schema/fixed-ip-crds.ts";

export interface ClaimAsk {
  namespace: string;
  name: string;
  node: string;
  /** CNI_ARGS K8S_POD_UID, when the runtime passes it. */
  podUid?: string;
}

export type ClaimDecision =
  | { use: true; address: string; eniId: string; subnet: string | undefined }
  /** `boundTo`: the node the claim is bound to when it is not this one. */
  | { use: false; reason: string; boundTo?: string; message?: string };

/** What the claim says for this pod on this node. `claim` null: the API server has none. */
export function claimDecision(claim: VpcIPClaim | null, ask: ClaimAsk): ClaimDecision {
  const ref = `VpcIPClaim ${ask.namespace}/${ask.name}`;
  if (claim === null) return { use: false, reason: `${ref} does not exist yet` };
  const s = claim.status ?? {};
  const message = s.message ? { message: s.message } : {};
  const phase = s.phase ?? "Pending";
  if (phase === "Failed") return { use: false, reason: `${ref} is Failed`, ...message };
  if (phase !== "Bound") return { use: false, reason: `${ref} is ${phase}`, ...message };
  if (s.node !== ask.node) {
    const where = s.node ? `bound to node ${s.node}, not ${ask.node}` : "Bound but names no node";
    return { use: false, reason: `${ref} is ${where}`, ...(s.node ? { boundTo: s.node } : {}), ...message };
  }
  if (!s.address || !s.eniId)
    return {
      use: false,
      reason: `${ref} is Bound to ${ask.node} but has no ${!s.address ? "address" : "eniId"} yet`,
      ...message,
    };
  if (ask.podUid && s.podUID && ask.podUid !== s.podUID)
    return {
      use: false,
      reason: `${ref} holds ${s.address} for pod uid ${s.podUID}, not this pod's ${ask.podUid}`,
      ...message,
    };
  return { use: true, address: s.address, eniId: s.eniId, subnet: s.subnet };
}

/** The CNI error text (code 11) after the ADD timeout: the pod, the claim's state, the controller's word. */
export function claimTimeoutMessage(ask: ClaimAsk, last: ClaimDecision | { error: string }, waitedMs: number): string {
  const pod = `${ask.namespace}/${ask.name}`;
  const waited = `${Math.round(waitedMs / 100) / 10}s`;
  let why: string;
  if ("error" in last) why = `VpcIPClaim ${pod} could not be read: ${last.error}`;
  else if (last.use) why = `VpcIPClaim ${pod} was usable only at the deadline`;
  else {
    why = last.reason;
    if (last.message) why += `; the controller says: ${last.message}`;
  }
  return `no fixed IP for pod ${pod} on node ${ask.node} after ${waited}: ${why}; the cluster controller assigns it, the runtime retries the ADD`;
}

/** STATUS and eni-ip: the node's ENI once the controller bound it. */
export interface NodeEniState {
  ready: boolean;
  eniId?: string;
  quota: number;
  message: string;
}

export function nodeEniState(config: NodeENIConfig | null, node: string): NodeEniState {
  const waiting = "waiting for the controller to bind this node's ENI";
  if (config === null) return { ready: false, quota: 0, message: `${waiting} (no NodeENIConfig ${node} yet)` };
  const eniId = config.status?.eniId;
  if (!eniId) return { ready: false, quota: 0, message: config.status?.message || waiting };
  return { ready: true, eniId, quota: config.spec.eniIPQuota, message: `ENI ${eniId} is bound` };
}
