// Nodes: one ENI each, with no secondary IP bound in advance and its IP quota reserved in the
// cluster pool (spec/behaviour.md "Fixed IP mode" rules 2, 7, 8 and 10).
import { releaseAddress, podDeleted } from "./pod.ts";
import { addressesOnEni, cloneState, decisionSink, headroom, refuse } from "./state.ts";
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
  const s = cloneState(state);
  const { decisions, emit } = decisionSink(s);
  s.nodes[node] = { subnet, quota, eni: null };
  emit({ action: "create-eni", node, subnet });
  return { ok: true, state: s, decisions };
}

/** The create-eni decision succeeded: the node's ENI exists and takes pods. */
export function eniReady(state: FixedState, node: string, eni: string): FixedState {
  const n = state.nodes[node];
  if (!n) throw new Error(`eniReady: node ${JSON.stringify(node)} is unknown; bind its ENI first`);
  const s = cloneState(state);
  s.nodes[node]!.eni = eni;
  return s;
}

/**
 * Rule 7: a deleted node's pods are deleted (each by its claim's reclaim), its ENI is detached
 * and deleted, which gives its addresses back to the VPC; addresses of kept claims stay reserved
 * in the cluster (parked, no ENI) for the next pod of the same name.
 */
export function removeNode(state: FixedState, node: string, now: Millis): Step {
  const n = state.nodes[node];
  if (!n) return { ok: true, state, decisions: [] };
  const s = cloneState(state);
  const { decisions, emit } = decisionSink(s);
  for (const [key, claim] of Object.entries(s.claims)) {
    if (claim.node === node) podDeleted(s, key, now, () => {});
  }
  if (n.eni !== null) {
    for (const ip of addressesOnEni(s, n.eni)) {
      const a = s.addresses[ip]!;
      if (s.claims[a.claim]) {
        a.eni = null;
        s.subnets[a.subnet]!.available++;
      } else releaseAddress(s, ip, () => {});
    }
    emit({ action: "delete-eni", eni: n.eni, node });
  }
  delete s.nodes[node];
  return { ok: true, state: s, decisions };
}
