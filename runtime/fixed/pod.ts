// Pods: an address from the node's ENI subnet, assigned on that ENI by address; kept or released
// when the pod goes (spec/behaviour.md "Fixed IP mode" rules 3 to 6).
import { NONE } from "./claim-table.ts";
import { toAddress } from "./ipv4.ts";
import { claimKey, decisionSink, expiryOf, refuse } from "./state.ts";
import { dropAddress, eniLoad, lowestFree, markTaken, moveAddress, putAddress, tableOf } from "./state-index.ts";
import type { DecisionInput, FixedState, Millis, PodAsk, Reclaim, Step } from "./types.ts";

type Emit = (d: DecisionInput) => void;

// Shared by every claim that asks for them (claims never change their reclaim in place).
const IMMEDIATE: Reclaim = { kind: "Immediate" };
const NEVER: Reclaim = { kind: "Never" };

/** Rule 6: the pod's annotations override the cluster's reclaim; a duration keeps the claim that long. */
export function effectiveReclaim(cluster: Reclaim, ask: PodAsk): Reclaim {
  if (ask.deletePolicy === "Immediate") return IMMEDIATE;
  if (ask.expiredMs !== undefined) return { kind: "After", ms: ask.expiredMs };
  if (ask.deletePolicy === "Never") return NEVER;
  return cluster;
}

/**
 * Rule 3: the lowest usable address of the subnet that the cluster does not hold and the VPC did
 * not refuse. O(log n) amortised: the index keeps a cursor and the freed addresses below it.
 */
export function pickAddress(s: FixedState, subnet: string): string | null {
  const n = pickNumber(s, subnet);
  return n === null ? null : toAddress(n);
}

function pickNumber(s: FixedState, subnet: string): number | null {
  const sub = s.subnets[subnet];
  if (!sub || sub.available <= 0) return null;
  return lowestFree(s, subnet);
}

/**
 * Rules 3 and 5: a pod created on a node gets its claim's address if it has one (moved from
 * the old ENI: unassign there, assign here; same subnet only), else a new address of the node's
 * ENI subnet, assigned on the node's ENI by address. Idempotent for a pod already placed.
 */
export function podAdded(s: FixedState, pod: { namespace: string; name: string }, nodeName: string, ask: PodAsk): Step {
  const key = claimKey(pod);
  const node = s.nodes[nodeName];
  if (!node) return refuse(s, "unknown-node", `pod ${key}: node ${nodeName} has no ENI bound by the allocator`);
  if (node.eni === null) return refuse(s, "eni-not-ready", `pod ${key}: node ${nodeName}'s ENI is still being created`);
  const eni = node.eni;
  const t = tableOf(s);
  const slot = t.slotOfClaim(key);
  const held = slot !== NONE;
  const runsOn = held ? t.node(slot) : null;
  if (held && runsOn === nodeName) return { ok: true, state: s, decisions: [] };
  if (held && runsOn !== null) {
    return refuse(s, "claim-in-use", `pod ${key}: its address ${t.address(slot)} is held by the pod on node ${runsOn}`);
  }
  const heldSubnet = held ? t.subnet(slot) : null;
  if (held && heldSubnet !== node.subnet) {
    return refuse(
      s,
      "wrong-subnet",
      `pod ${key}: its address ${t.address(slot)} is in subnet ${heldSubnet}, node ${nodeName}'s ENI in ${node.subnet}; place it on a node of ${heldSubnet}`,
    );
  }
  const heldEni = held ? t.eni(slot) : null;
  if ((!held || heldEni !== eni) && eniLoad(s, eni) >= node.quota) {
    return refuse(
      s,
      "eni-full",
      `pod ${key}: node ${nodeName}'s ENI ${eni} holds its quota of ${node.quota} addresses`,
    );
  }
  const n = held ? t.ipOf(slot) : pickNumber(s, node.subnet);
  if (n === null) return refuse(s, "subnet-full", `pod ${key}: subnet ${node.subnet} has no free address`);
  // No refusal below this line: from here on the step changes the state it was given.
  const { decisions, emit } = decisionSink(s);
  const reclaim = effectiveReclaim(s.reclaim, ask);
  const ip = toAddress(n);
  if (held) {
    if (heldEni !== eni) {
      if (heldEni !== null) emit({ action: "unassign", eni: heldEni, ip });
      emit({ action: "assign", eni, ip, claim: key });
      if (heldEni === null) s.subnets[heldSubnet!]!.available--;
      moveAddress(s, slot, eni);
    }
    t.setClaim(slot, { reclaim, node: nodeName, expiresAt: null, deleted: false });
    return { ok: true, state: s, decisions };
  }
  s.subnets[node.subnet]!.available--;
  putAddress(s, key, {
    address: ip,
    subnet: node.subnet,
    eni,
    reclaim,
    node: nodeName,
    expiresAt: null,
    deleted: false,
  });
  emit({ action: "assign", eni, ip, claim: key });
  return { ok: true, state: s, decisions };
}

/**
 * Rules 4 and 6: a deleted pod's address is unassigned (back to the VPC subnet) when its reclaim
 * is Immediate or its claim was deleted; otherwise the claim keeps it on the ENI, for ever
 * (Never) or until the reclaim delay has passed (collectExpired).
 */
export function podDeleted(s: FixedState, key: string, now: Millis, emit: Emit): void {
  const t = tableOf(s);
  const slot = t.slotOfClaim(key);
  if (slot === NONE || t.nodeId(slot) === NONE) return;
  if (t.deleted(slot) || t.reclaimKind(slot) === "Immediate") {
    releaseSlot(s, slot, emit);
    return;
  }
  t.setNode(slot, null);
  t.setExpiresAt(slot, expiryOf(t.reclaim(slot), now));
}

export function deletePod(s: FixedState, pod: { namespace: string; name: string }, now: Millis): Step {
  const { decisions, emit } = decisionSink(s);
  podDeleted(s, claimKey(pod), now, emit);
  return { ok: true, state: s, decisions };
}

/** An address leaves the cluster: unassigned from its ENI (if any) and its claim dropped. */
export function releaseSlot(s: FixedState, slot: number, emit: Emit): void {
  const t = tableOf(s);
  const eni = t.eni(slot);
  if (eni !== null) {
    emit({ action: "unassign", eni, ip: t.address(slot) });
    s.subnets[t.subnet(slot)]!.available++;
  }
  dropAddress(s, slot);
}

/**
 * An assign decision failed because the VPC holds the address for someone else: it is never
 * picked again, and the claim gives it up (the subnet's free count had it out already). The
 * pod's next podAdded gets another address; a kept address that was lost this way cannot come back.
 */
export function addressInUse(s: FixedState, ip: string): FixedState {
  const t = tableOf(s);
  const slot = t.slotOfAddress(ip);
  if (slot === NONE) return s;
  const subnet = t.subnet(slot);
  markTaken(s, subnet, ip);
  if (t.eni(slot) !== null) s.subnets[subnet]!.available++;
  dropAddress(s, slot);
  return s;
}
