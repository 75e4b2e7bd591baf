// Nodes: one ENI each, with no secondary IP bound in advance and its IP quota reserved in the
// cluster pool (spec/behaviour.md "Fixed IP mode" rules 2, 7, 8 and 10).
import { podDeleted } from "./pod.ts";
import { decisionSink, headroom, refuse } from "./state.ts";
import { addressesOnEni, dropNode, moveAddress, putNode, setNodeEni, tableOf } from "./state-index.ts";
import type { FixedState, Millis, Step } from "./types.ts";

/**
 * Rule 8, zones: an ENI attaches only to an instance of its subnet's zone (the cloud refuses the
 * attach otherwise), so a node's ENI may only go into a subnet of the node's zone. The subnets
 * of `zone`, in the order listed; every subnet when the zone is not known (undefined).
 */
export function subnetsOfZone(s: FixedState, zone: string | undefined): string[] {
  const ids = Object.keys(s.subnets);
  return zone === undefined ? ids : ids.filter((id) => s.subnets[id]!.zone === zone);
}

/**
 * Rule 8: among the subnets of the node's zone (subnetsOfZone), the one with the most free
 * addresses that can hold the whole quota; ties go to the first listed subnet. null when none can.
 */
export function subnetForNodeEni(s: FixedState, quota: number, zone?: string): string | null {
  let best: string | null = null;
  let bestRoom = -1;
  for (const id of subnetsOfZone(s, zone)) {
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
 * subnet rule 8 picks in the node's zone (undefined: any zone). When no subnet of that zone
 * fits, the refusal names the zone and every subnet with its zone and room, and changes nothing
 * (no partial state).
 */
export function bindNodeEni(state: FixedState, node: string, quota: number, zone?: string): Step {
  if (state.nodes[node]) return { ok: true, state, decisions: [] };
  const subnet = subnetForNodeEni(state, quota, zone);
  if (subnet === null) return refuseNode(state, node, quota, zone);
  const { decisions, emit } = decisionSink(state);
  putNode(state, node, { subnet, quota, eni: null });
  emit({ action: "create-eni", node, subnet });
  return { ok: true, state, decisions };
}

function refuseNode(state: FixedState, node: string, quota: number, zone: string | undefined): Step {
  const ids = Object.keys(state.subnets);
  const zoneOf = (id: string) => state.subnets[id]!.zone ?? "zone unknown";
  if (zone === undefined) {
    const rooms = ids.map((id) => `${id}: ${headroom(state, id)}`).join(", ");
    return refuse(
      state,
      "no-subnet-fits",
      `node ${node}: no pod subnet can hold its ENI IP quota of ${quota} (free addresses not reserved: ${rooms || "no subnet"})`,
    );
  }
  const mine = subnetsOfZone(state, zone);
  const elsewhere = ids.filter((id) => !mine.includes(id)).map((id) => `${id} (${zoneOf(id)})`);
  if (mine.length === 0) {
    return refuse(
      state,
      "no-subnet-in-zone",
      `node ${node} is in zone ${zone}, but no pod subnet of the policy is: ${elsewhere.join(", ") || "no subnet"}; ` +
        `an ENI attaches only to an instance of its own zone, so the node gets no ENI until the policy lists a subnet of ${zone}`,
    );
  }
  const rooms = mine.map((id) => `${id} (${zone}): ${headroom(state, id)}`).join(", ");
  const others = elsewhere.length > 0 ? `; other zones, not usable: ${elsewhere.join(", ")}` : "";
  return refuse(
    state,
    "no-subnet-fits",
    `node ${node} is in zone ${zone}: no pod subnet of that zone can hold its ENI IP quota of ${quota} ` +
      `(free addresses not reserved: ${rooms}${others})`,
  );
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
    const t = tableOf(s);
    for (const slot of addressesOnEni(s, n.eni)) if (t.node(slot) === node) podDeleted(s, t.key(slot), now, () => {});
    for (const slot of addressesOnEni(s, n.eni)) {
      // kept claims stay reserved in the cluster, parked with no ENI
      moveAddress(s, slot, null);
      s.subnets[t.subnet(slot)]!.available++;
    }
    emit({ action: "delete-eni", eni: n.eni, node });
  }
  dropNode(s, node);
  return { ok: true, state: s, decisions };
}
