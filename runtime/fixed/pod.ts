// Pods: an address from the node's ENI subnet, assigned on that ENI by address; kept or released
// when the pod goes (spec/behaviour.md "Fixed IP mode" rules 3 to 6).
import { usableAddresses } from "./ipv4.ts";
import { addressesOnEni, claimKey, cloneState, decisionSink, expiryOf, refuse } from "./state.ts";
import type { DecisionInput, FixedState, Millis, PodAsk, Reclaim, Step } from "./types.ts";

type Emit = (d: DecisionInput) => void;

/** Rule 6: the pod's annotations override the cluster's reclaim; a duration keeps the claim that long. */
export function effectiveReclaim(cluster: Reclaim, ask: PodAsk): Reclaim {
  if (ask.deletePolicy === "Immediate") return { kind: "Immediate" };
  if (ask.expiredMs !== undefined) return { kind: "After", ms: ask.expiredMs };
  if (ask.deletePolicy === "Never") return { kind: "Never" };
  return cluster;
}

/** Rule 3: the lowest usable address of the subnet that the cluster does not hold and the VPC did not refuse. */
export function pickAddress(s: FixedState, subnet: string): string | null {
  const sub = s.subnets[subnet];
  if (!sub || sub.available <= 0) return null;
  const taken = new Set(sub.taken);
  for (const ip of usableAddresses(sub.cidr)) {
    if (!s.addresses[ip] && !taken.has(ip)) return ip;
  }
  return null;
}

/**
 * Rules 3 and 5: a pod created on a node gets its claim's address if it has one (moved from
 * the old ENI: unassign there, assign here; same subnet only), else a new address of the node's
 * ENI subnet, assigned on the node's ENI by address. Idempotent for a pod already placed.
 */
export function podAdded(
  state: FixedState,
  pod: { namespace: string; name: string },
  nodeName: string,
  ask: PodAsk,
): Step {
  const key = claimKey(pod);
  const node = state.nodes[nodeName];
  if (!node) return refuse(state, "unknown-node", `pod ${key}: node ${nodeName} has no ENI bound by the allocator`);
  if (node.eni === null)
    return refuse(state, "eni-not-ready", `pod ${key}: node ${nodeName}'s ENI is still being created`);
  const eni = node.eni;
  const claim = state.claims[key];
  if (claim?.node === nodeName) return { ok: true, state, decisions: [] };
  if (claim && claim.node !== null) {
    return refuse(
      state,
      "claim-in-use",
      `pod ${key}: its address ${claim.address} is held by the pod on node ${claim.node}`,
    );
  }
  const held = claim ? state.addresses[claim.address]! : undefined;
  if (held && held.subnet !== node.subnet) {
    return refuse(
      state,
      "wrong-subnet",
      `pod ${key}: its address ${claim!.address} is in subnet ${held.subnet}, node ${nodeName}'s ENI in ${node.subnet}; place it on a node of ${held.subnet}`,
    );
  }
  if (held?.eni !== eni && addressesOnEni(state, eni).length >= node.quota) {
    return refuse(
      state,
      "eni-full",
      `pod ${key}: node ${nodeName}'s ENI ${eni} holds its quota of ${node.quota} addresses`,
    );
  }
  const s = cloneState(state);
  const { decisions, emit } = decisionSink(s);
  const reclaim = effectiveReclaim(s.reclaim, ask);
  if (claim && held) {
    const a = s.addresses[claim.address]!;
    if (a.eni !== eni) {
      if (a.eni !== null) emit({ action: "unassign", eni: a.eni, ip: claim.address });
      emit({ action: "assign", eni, ip: claim.address, claim: key });
      if (a.eni === null) s.subnets[a.subnet]!.available--;
      a.eni = eni;
    }
    s.claims[key] = { ...claim, reclaim, node: nodeName, expiresAt: null, deleted: false };
    return { ok: true, state: s, decisions };
  }
  const ip = pickAddress(s, node.subnet);
  if (ip === null) return refuse(state, "subnet-full", `pod ${key}: subnet ${node.subnet} has no free address`);
  s.subnets[node.subnet]!.available--;
  s.addresses[ip] = { subnet: node.subnet, claim: key, eni };
  s.claims[key] = { address: ip, reclaim, node: nodeName, expiresAt: null, deleted: false };
  emit({ action: "assign", eni, ip, claim: key });
  return { ok: true, state: s, decisions };
}

/**
 * Rules 4 and 6: a deleted pod's address is unassigned (back to the VPC subnet) when its reclaim
 * is Immediate or its claim was deleted; otherwise the claim keeps it on the ENI, for ever
 * (Never) or until the reclaim delay has passed (collectExpired).
 */
export function podDeleted(s: FixedState, key: string, now: Millis, emit: Emit): void {
  const claim = s.claims[key];
  if (!claim || claim.node === null) return;
  if (claim.deleted || claim.reclaim.kind === "Immediate") {
    releaseAddress(s, claim.address, emit);
    return;
  }
  claim.node = null;
  claim.expiresAt = expiryOf(claim.reclaim, now);
}

export function deletePod(state: FixedState, pod: { namespace: string; name: string }, now: Millis): Step {
  const s = cloneState(state);
  const { decisions, emit } = decisionSink(s);
  podDeleted(s, claimKey(pod), now, emit);
  return { ok: true, state: s, decisions };
}

/** An address leaves the cluster: unassigned from its ENI (if any) and its claim dropped. */
export function releaseAddress(s: FixedState, ip: string, emit: Emit): void {
  const a = s.addresses[ip];
  if (!a) return;
  if (a.eni !== null) {
    emit({ action: "unassign", eni: a.eni, ip });
    s.subnets[a.subnet]!.available++;
  }
  if (s.claims[a.claim]?.address === ip) delete s.claims[a.claim];
  delete s.addresses[ip];
}

/**
 * An assign decision failed because the VPC holds the address for someone else: it is never
 * picked again, and the claim gives it up (the subnet's free count had it out already). The
 * pod's next podAdded gets another address; a kept address that was lost this way cannot come back.
 */
export function addressInUse(state: FixedState, ip: string): FixedState {
  const a = state.addresses[ip];
  if (!a) return state;
  const s = cloneState(state);
  const subnet = s.subnets[a.subnet]!;
  if (!subnet.taken.includes(ip)) subnet.taken.push(ip);
  subnet.taken.sort();
  if (a.eni !== null) subnet.available++;
  if (s.claims[a.claim]?.address === ip) delete s.claims[a.claim];
  delete s.addresses[ip];
  return s;
}
