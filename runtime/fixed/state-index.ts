// The state's index: what the rules ask of the state at fleet scale (5,000 nodes, 300,000
// claims) without walking it. The claim table (claim-table.ts) answers by claim and by address;
// the index adds, per subnet, the nodes' reservations and the parked addresses (headroom in
// O(1)) and the lowest free address (free-addresses.ts), and per ENI its slots. It lives beside
// the state in a WeakMap, is built from the state on first use (nodes and subnets are plain
// records a controller fills by hand), and every change the rules make goes through the helpers
// below, which keep it current.
import { type ClaimTable, type HeldClaim, NONE } from "./claim-table.ts";
import { FreeAddresses } from "./free-addresses.ts";
import { toNumber, usableRange } from "./ipv4.ts";
import type { FixedState, NodeState, SubnetState } from "./types.ts";

/** What a subnet's headroom subtracts from the VPC's free count. */
export interface SubnetLoad {
  /** Sum over the subnet's nodes of quota minus the addresses on the node's ENI (not below 0). */
  reserved: number;
  /** Addresses of the subnet the cluster keeps with no ENI. */
  parked: number;
}

interface SubnetPick {
  /** The persisted subnet as indexed: replaced (or its taken list changed) means index again. */
  state: SubnetState;
  taken: string[];
  takenLength: number;
  cidr: string;
  takenSet: Set<number>;
  free: FreeAddresses;
  /** Neither held by the cluster nor taken: made once per index, not once per pick. */
  isFree: (n: number) => boolean;
}

export interface StateIndex {
  /** The records indexed: a state whose records were replaced is indexed again. */
  nodes: FixedState["nodes"];
  table: ClaimTable;
  /** The table's outside edits (putClaim) when indexed. */
  edits: number;
  subnetRecord: FixedState["subnets"];
  subnetCount: number;
  picks: Map<string, SubnetPick>;
  loads: Map<string, SubnetLoad>;
  /** An ENI's slots, unordered: an array, not a Set, as it holds at most a quota (memory). */
  onEni: Map<string, number[]>;
  nodeOfEni: Map<string, string>;
}

const indexes = new WeakMap<FixedState, StateIndex>();

/** The dense claim table behind the state's claims and addresses. */
export function tableOf(s: FixedState): ClaimTable {
  return s.claims.table;
}

/**
 * (Re)builds the index of a state, O(nodes + claims), and returns the state. The API indexes a
 * state on first use by itself, and again after putClaim; call this after changing the nodes or
 * subnets of a state the API has already seen (in place: a replaced record is noticed).
 */
export function indexState(s: FixedState): FixedState {
  indexes.set(s, buildIndex(s));
  return s;
}

/** The state's index, built when missing or when the state's records were replaced. */
export function indexOf(s: FixedState): StateIndex {
  const ix = indexes.get(s);
  if (ix !== undefined && current(ix, s)) return ix;
  const fresh = buildIndex(s);
  indexes.set(s, fresh);
  return fresh;
}

/** O(subnets): catches records and subnets replaced, as a copy-and-spread does, and putClaim. */
function current(ix: StateIndex, s: FixedState): boolean {
  const t = tableOf(s);
  if (ix.nodes !== s.nodes || ix.table !== t || ix.edits !== t.outsideEdits || ix.subnetRecord !== s.subnets)
    return false;
  let count = 0;
  for (const id in s.subnets) {
    const sub = s.subnets[id]!;
    const p = ix.picks.get(id);
    if (!p || p.state !== sub || p.taken !== sub.taken || p.takenLength !== sub.taken.length || p.cidr !== sub.cidr)
      return false;
    count++;
  }
  return count === ix.subnetCount;
}

/** The index computed from scratch (tests compare it with the one kept current). */
export function buildIndex(s: FixedState): StateIndex {
  const t = tableOf(s);
  const ix: StateIndex = {
    nodes: s.nodes,
    table: t,
    edits: t.outsideEdits,
    subnetRecord: s.subnets,
    subnetCount: 0,
    picks: new Map(),
    loads: new Map(),
    onEni: new Map(),
    nodeOfEni: new Map(),
  };
  for (const [id, sub] of Object.entries(s.subnets)) {
    const { first, end } = usableRange(sub.cidr);
    const takenSet = new Set(sub.taken.map(toNumber));
    const free = new FreeAddresses(first, end);
    const isFree = (n: number) => t.slotOfAddress(n) === NONE && !takenSet.has(n);
    const taken = sub.taken;
    ix.picks.set(id, { state: sub, taken, takenLength: taken.length, cidr: sub.cidr, takenSet, free, isFree });
    ix.subnetCount++;
  }
  for (const slot of t.slots()) {
    const eni = t.eni(slot);
    if (eni === null) loadOf(ix, t.subnet(slot)).parked++;
    else eniList(ix, eni).push(slot);
  }
  for (const name in s.nodes) {
    const node = s.nodes[name]!;
    if (node.eni !== null) ix.nodeOfEni.set(node.eni, name);
    loadOf(ix, node.subnet).reserved += reservation(ix, node);
  }
  return ix;
}

function loadOf(ix: StateIndex, subnet: string): SubnetLoad {
  let load = ix.loads.get(subnet);
  if (load === undefined) ix.loads.set(subnet, (load = { reserved: 0, parked: 0 }));
  return load;
}

function eniList(ix: StateIndex, eni: string): number[] {
  let list = ix.onEni.get(eni);
  if (list === undefined) ix.onEni.set(eni, (list = []));
  return list;
}

function reservation(ix: StateIndex, node: NodeState): number {
  const used = node.eni === null ? 0 : (ix.onEni.get(node.eni)?.length ?? 0);
  return Math.max(0, node.quota - used);
}

// Reads.

export function subnetLoad(s: FixedState, subnet: string): SubnetLoad {
  return indexOf(s).loads.get(subnet) ?? { reserved: 0, parked: 0 };
}

/** How many addresses the cluster has on an ENI. */
export function eniLoad(s: FixedState, eni: string): number {
  return indexOf(s).onEni.get(eni)?.length ?? 0;
}

/** The slots of the addresses on an ENI, lowest address first (a copy: steps may drop them). */
export function addressesOnEni(s: FixedState, eni: string): number[] {
  const t = tableOf(s);
  return [...(indexOf(s).onEni.get(eni) ?? [])].sort((a, b) => t.ipOf(a) - t.ipOf(b));
}

/** The lowest usable address of the subnet that the state does not hold nor lists as taken. */
export function lowestFree(s: FixedState, subnet: string): number | null {
  const p = indexOf(s).picks.get(subnet);
  if (p === undefined) return null;
  return p.free.lowest(p.isFree);
}

// Changes: each writes the state and keeps the index current.

/**
 * An address joins or leaves an ENI, and the ENI's node's reservation follows: taken out of its
 * subnet's sum before, put back after. (No closures: this runs on every step, and garbage
 * between the long-lived records of a 300,000-claim state costs RSS.)
 */
function changeEni(s: FixedState, ix: StateIndex, eni: string, slot: number, join: boolean): void {
  const name = ix.nodeOfEni.get(eni);
  const node = name === undefined ? undefined : s.nodes[name];
  const load = node === undefined ? undefined : loadOf(ix, node.subnet);
  if (load !== undefined) load.reserved -= reservation(ix, node!);
  const list = eniList(ix, eni);
  if (join) list.push(slot);
  else {
    const at = list.indexOf(slot);
    if (at >= 0) list[at] = list[list.length - 1]!;
    if (at >= 0) list.pop();
  }
  if (list.length === 0) ix.onEni.delete(eni);
  if (load !== undefined) load.reserved += reservation(ix, node!);
}

function detach(s: FixedState, ix: StateIndex, slot: number): void {
  const eni = ix.table.eni(slot);
  if (eni === null) loadOf(ix, ix.table.subnet(slot)).parked--;
  else changeEni(s, ix, eni, slot, false);
}

function attach(s: FixedState, ix: StateIndex, slot: number): void {
  const eni = ix.table.eni(slot);
  if (eni === null) loadOf(ix, ix.table.subnet(slot)).parked++;
  else changeEni(s, ix, eni, slot, true);
}

/** A new claim and its address (neither held yet). */
export function putAddress(s: FixedState, key: string, held: HeldClaim): number {
  const ix = indexOf(s);
  const slot = ix.table.put(key, held);
  attach(s, ix, slot);
  ix.picks.get(held.subnet)?.free.held(ix.table.ipOf(slot));
  return slot;
}

export function moveAddress(s: FixedState, slot: number, eni: string | null): void {
  const ix = indexOf(s);
  if (ix.table.eni(slot) === eni) return;
  detach(s, ix, slot);
  ix.table.setEni(slot, eni);
  attach(s, ix, slot);
}

/** The address leaves the cluster, and its claim with it. */
export function dropAddress(s: FixedState, slot: number): void {
  const ix = indexOf(s);
  const t = ix.table;
  detach(s, ix, slot);
  const [subnet, ip] = [t.subnet(slot), t.ipOf(slot)];
  t.drop(slot);
  ix.picks.get(subnet)?.free.released(ip);
}

export function putNode(s: FixedState, name: string, node: NodeState): void {
  const ix = indexOf(s);
  s.nodes[name] = node;
  if (node.eni !== null) ix.nodeOfEni.set(node.eni, name);
  loadOf(ix, node.subnet).reserved += reservation(ix, node);
}

export function setNodeEni(s: FixedState, name: string, eni: string): void {
  const ix = indexOf(s);
  const node = s.nodes[name]!;
  const load = loadOf(ix, node.subnet);
  load.reserved -= reservation(ix, node);
  if (node.eni !== null) ix.nodeOfEni.delete(node.eni);
  node.eni = eni;
  ix.nodeOfEni.set(eni, name);
  load.reserved += reservation(ix, node);
}

export function dropNode(s: FixedState, name: string): void {
  const ix = indexOf(s);
  const node = s.nodes[name]!;
  loadOf(ix, node.subnet).reserved -= reservation(ix, node);
  if (node.eni !== null) ix.nodeOfEni.delete(node.eni);
  delete s.nodes[name];
}

/** The VPC refused an address as someone else's: on the subnet's taken list (sorted) for good. */
export function markTaken(s: FixedState, subnet: string, ip: string): void {
  const ix = indexOf(s);
  const sub = s.subnets[subnet]!;
  const p = ix.picks.get(subnet)!;
  const n = toNumber(ip);
  if (!p.takenSet.has(n)) {
    sub.taken.push(ip);
    p.takenSet.add(n);
  }
  sub.taken.sort();
  p.takenLength = sub.taken.length;
}
