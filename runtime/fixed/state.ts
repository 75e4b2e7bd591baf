// Building and reading the allocator's state; helpers every rule uses. Steps change the state
// in place (ownership: types.ts); the index in state-index.ts follows every change.
import { parseDuration } from "../../schema/duration.ts";
import { AddressesView, ClaimsView, ClaimTable, type HeldClaim } from "./claim-table.ts";
import { subnetLoad } from "./state-index.ts";
import type {
  Decision,
  DecisionInput,
  FixedState,
  Millis,
  PersistedState,
  Reclaim,
  Refusal,
  Step,
  SubnetState,
} from "./types.ts";

export const STATE_VERSION = "vpccni-fixed/1" as const;

/** The policy's `spec.fixedIp.reclaim` ("Immediate", "Never" or a duration) as a Reclaim. */
export function reclaimFromPolicy(text: string): Reclaim {
  if (text === "Immediate" || text === "Never") return { kind: text };
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new Error(
      `fixedIp.reclaim is ${JSON.stringify(text)}; allowed: Immediate, Never or a duration such as "30m"`,
    );
  }
  return { kind: "After", ms };
}

export function createState(input: {
  reclaim: Reclaim;
  subnets: Record<string, { cidr: string; available: number; zone?: string }>;
}): FixedState {
  const subnets: Record<string, SubnetState> = {};
  for (const [id, s] of Object.entries(input.subnets)) subnets[id] = { ...s, taken: [] };
  const table = new ClaimTable();
  const state: FixedState = {
    version: STATE_VERSION,
    reclaim: input.reclaim,
    subnets,
    nodes: {},
    claims: new ClaimsView(table),
    addresses: new AddressesView(table),
    nextOpSeq: 1,
  };
  // JSON.stringify takes a slow path through objects whose toJSON it must call deep inside
  Object.defineProperty(state, "toJSON", { value: persisted, enumerable: false });
  return state;
}

function persisted(this: FixedState): PersistedState {
  return { ...this, claims: this.claims.toJSON(), addresses: this.addresses.toJSON() };
}

/**
 * A claim and the address it holds, as a controller fills a state from the cluster objects (a
 * VpcIPClaim and its VpcIP). An address another claim held goes to this one. The index is
 * rebuilt on the next step.
 */
export function putClaim(s: FixedState, key: string, held: HeldClaim): FixedState {
  const t = s.claims.table;
  t.put(key, held);
  t.outsideEdits++;
  return s;
}

/** A state as JSON.stringify wrote it (the persisted shape), in the dense form again. */
export function stateFromJSON(json: PersistedState): FixedState {
  const s = createState({ reclaim: json.reclaim, subnets: {} });
  s.subnets = json.subnets;
  s.nodes = json.nodes;
  s.nextOpSeq = json.nextOpSeq;
  for (const [key, c] of Object.entries(json.claims)) {
    const a = json.addresses[c.address];
    if (a === undefined || a.claim !== key) {
      throw new Error(`state: claim ${JSON.stringify(key)} holds ${c.address}, which the addresses do not give it`);
    }
    putClaim(s, key, { ...c, subnet: a.subnet, eni: a.eni });
  }
  return s;
}

/** DescribeSubnets: the VPC's free counts (addresses assigned on our ENIs are already out). */
export function setSubnets(s: FixedState, available: Record<string, number>): FixedState {
  for (const [id, n] of Object.entries(available)) {
    const subnet = s.subnets[id];
    if (subnet) subnet.available = n;
  }
  return s;
}

/** "namespace/pod": a claim has the pod's name. */
export function claimKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

/**
 * Free addresses of a subnet that nobody has a word on: the VPC's count, minus the unused part
 * of every node's reserved quota, minus kept addresses that no ENI holds (the cloud counts
 * those as free, the cluster does not). O(1): the index keeps both sums.
 */
export function headroom(s: FixedState, subnet: string): number {
  const { reserved, parked } = subnetLoad(s, subnet);
  return (s.subnets[subnet]?.available ?? 0) - reserved - parked;
}

/** Decisions go into a list and take the next operation id of the state. */
export function decisionSink(s: FixedState): { decisions: Decision[]; emit: (d: DecisionInput) => void } {
  const decisions: Decision[] = [];
  const emit = (d: DecisionInput) => {
    // the rules hand in a fresh literal: it takes the id itself (no copy: garbage costs RSS)
    (d as Decision).id = `op-${s.nextOpSeq++}`;
    decisions.push(d as Decision);
  };
  return { decisions, emit };
}

export function refuse(state: FixedState, code: Refusal["code"], message: string): Step {
  return { ok: false, state, refusal: { code, message } };
}

/** When a kept claim expires, from the moment its pod was deleted. */
export function expiryOf(reclaim: Reclaim, deletedAt: Millis): Millis | null {
  return reclaim.kind === "After" ? deletedAt + reclaim.ms : null;
}
