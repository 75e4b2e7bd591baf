// Nodes: one ENI each, with no secondary IP bound in advance and its IP quota reserved in the
// cluster pool (spec/behaviour.md "Fixed IP mode" rules 2, 7, 8 and 10).
import { releaseAddress, podDeleted } from "./pod.ts";
import { decisionSink, headroom, refuse } from "./state.ts";
import { addressesOnEni, dropNode, moveAddress, putNode, setNodeEni } from "./state-index.ts";
import type { FixedState, Millis, Step } from "./types.ts";

/**
 * Rule 8: the subnet with the most free addresses that can hold the whole quota; ties go to the
 * first listed subnet. null when no subnet can.
 */
export function subnetForNodeEni(s: FixedState, quota: number): string | null {
  let best: string | null = null;
  let bestRoom = -1;
  for (const id of Object.keys(s.subnets)) {
    const room = headroom(s, id);
    if (room >= quota && room > bestRoom) {
      best = id;
      bestRoom = room;
    }
  }
  return best;
}

/**
 * Rule 2: a new node gets one ENI with no secondary IP, and its quota is reserved in the
 * subnet rule 8 picks. When no subnet fits, the refusal changes nothing (no partial state).
 */
export function bindNodeEni(state: FixedState, node: string, quota: number): Step {
  if (state.nodes[node]) return { ok: true, state, decisions: [] };
  const subnet = subnetForNodeEni(state, quota);
  if (subnet === null) {
    const rooms = Object.keys(state.subnets)
      .map((id) => `${id}: ${headroom(state, id)}`)
      .join(", ");
    return refuse(
      state,
      "no-subnet-fits",
      `node ${node}: no pod subnet can hold its ENI IP quota of ${quota} (free addresses not reserved: ${rooms || "no subnet"})`,
    );
  }
  const { decisions, emit } = decisionSink(state);
  putNode(state, node, { subnet, quota, eni: null });
  emit({ action: "create-eni", node, subnet });
  return { ok: true, state, decisions };
}

/** The create-eni decision succeeded: the node's ENI exists and takes pods. */
export function eniReady(state: FixedState, node: string, eni: string): FixedState {
  const n = state.nodes[node];
  if (!n) throw new Error(`eniReady: node ${JSON.stringify(node)} is unknown; bind its ENI first`);
  setNodeEni(state, node, eni);
  return state;
}

/**
 * Rule 7: a deleted node's pods are deleted (each by its claim's reclaim), its ENI is detached
 * and deleted, which gives its addresses back to the VPC; addresses of kept claims stay reserved
 * in the cluster (parked, no ENI) for the next pod of the same name.
 */
export function removeNode(s: FixedState, node: string, now: Millis): Step {
  const n = s.nodes[node];
  if (!n) return { ok: true, state: s, decisions: [] };
  const { decisions, emit } = decisionSink(s);
  if (n.eni !== null) {
    // The node's running pods hold their addresses on its ENI (podAdded puts them there and
    // nothing else moves them), so the ENI's addresses find them without a walk over all claims.
    for (const ip of addressesOnEni(s, n.eni)) {
      const key = s.addresses[ip]!.claim;
      if (s.claims[key]?.node === node) podDeleted(s, key, now, () => {});
    }
    for (const ip of addressesOnEni(s, n.eni)) {
      const a = s.addresses[ip]!;
      if (s.claims[a.claim]) {
        moveAddress(s, ip, null);
        s.subnets[a.subnet]!.available++;
      } else releaseAddress(s, ip, () => {});
    }
    emit({ action: "delete-eni", eni: n.eni, node });
  }
  dropNode(s, node);
  return { ok: true, state: s, decisions };
}
