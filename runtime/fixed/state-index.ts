// The state's index: what the rules ask of the state at fleet scale (5,000 nodes, 300,000
// claims) without walking it. The state stays plain JSON, because a controller rebuilds it from
// the cluster objects; the index lives beside it in a WeakMap, is built from the persisted fields
// on first use, and every change the rules make goes through the helpers below, which keep it
// current. Answers: a subnet's reservations and parked addresses (headroom in O(1)), the
// addresses on an ENI, the lowest free address of a subnet (free-addresses.ts).
import { FreeAddresses } from "./free-addresses.ts";
import { toAddress, toNumber, usableRange } from "./ipv4.ts";
import type { AddressState, FixedState, NodeState, SubnetState } from "./types.ts";

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
  takenSet: Set<string>;
  free: FreeAddresses;
  /** Neither held by the cluster nor taken: made once per index, not once per pick. */
  isFree: (n: number) => boolean;
}

export interface StateIndex {
  /** The records indexed: a state whose records were replaced is indexed again. */
  nodes: FixedState["nodes"];
  addresses: FixedState["addresses"];
  subnetRecord: FixedState["subnets"];
  subnetCount: number;
  picks: Map<string, SubnetPick>;
  loads: Map<string, SubnetLoad>;
  /** An ENI's addresses, unordered: an array, not a Set, as it holds at most a quota (memory). */
  onEni: Map<string, string[]>;
  nodeOfEni: Map<string, string>;
}

const indexes = new WeakMap<FixedState, StateIndex>();

/**
 * (Re)builds the index of a state from its persisted fields, O(nodes + addresses), and returns
 * the state. The API indexes a state on first use by itself; call this after changing fields of
 * a state the API has already seen (in place: a replaced record is noticed).
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

/** O(subnets): catches records and subnets replaced, as a copy-and-spread does, not edits in place. */
function current(ix: StateIndex, s: FixedState): boolean {
  if (ix.nodes !== s.nodes || ix.addresses !== s.addresses || ix.subnetRecord !== s.subnets) return false;
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
  const ix: StateIndex = {
    nodes: s.nodes,
    addresses: s.addresses,
    subnetRecord: s.subnets,
    subnetCount: 0,
    picks: new Map(),
    loads: new Map(),
    onEni: new Map(),
    nodeOfEni: new Map(),
  };
  for (const [id, sub] of Object.entries(s.subnets)) {
    const { first, end } = usableRange(sub.cidr);
    const takenSet = new Set(sub.taken);
    const free = new FreeAddresses(first, end);
    const isFree = (n: number) => {
      const ip = toAddress(n);
      return s.addresses[ip] === undefined && !takenSet.has(ip);
    };
    const taken = sub.taken;
    ix.picks.set(id, { state: sub, taken, takenLength: taken.length, cidr: sub.cidr, takenSet, free, isFree });
    ix.subnetCount++;
  }
  for (const ip in s.addresses) {
    const a = s.addresses[ip]!;
    if (a.eni === null) loadOf(ix, a.subnet).parked++;
    else eniList(ix, a.eni).push(ip);
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

function eniList(ix: StateIndex, eni: string): string[] {
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

export function addressesOnEni(s: FixedState, eni: string): string[] {
  return [...(indexOf(s).onEni.get(eni) ?? [])].sort();
}

/** The lowest usable address of the subnet that the state does not hold nor lists as taken. */
export function lowestFree(s: FixedState, subnet: string): string | null {
  const p = indexOf(s).picks.get(subnet);
  if (p === undefined) return null;
  const n = p.free.lowest(p.isFree);
  return n === null ? null : toAddress(n);
}

// Changes: each writes the state and keeps the index current.

/** The node's name as the index holds it: one string per node shared by its claims, not one per claim. */
export function nodeNameOf(s: FixedState, eni: string): string | undefined {
  return indexOf(s).nodeOfEni.get(eni);
}

/**
 * An address joins or leaves an ENI, and the ENI's node's reservation follows: taken out of its
 * subnet's sum before, put back after. (No closures: this runs on every step, and garbage
 * between the long-lived records of a 300,000-claim state costs RSS.)
 */
function changeEni(s: FixedState, ix: StateIndex, eni: string, ip: string, join: boolean): void {
  const name = ix.nodeOfEni.get(eni);
  const node = name === undefined ? undefined : s.nodes[name];
  const load = node === undefined ? undefined : loadOf(ix, node.subnet);
  if (load !== undefined) load.reserved -= reservation(ix, node!);
  const list = eniList(ix, eni);
  if (join) list.push(ip);
  else {
    const at = list.indexOf(ip);
    if (at >= 0) list[at] = list[list.length - 1]!;
    if (at >= 0) list.pop();
  }
  if (list.length === 0) ix.onEni.delete(eni);
  if (load !== undefined) load.reserved += reservation(ix, node!);
}

function detach(s: FixedState, ix: StateIndex, ip: string, a: AddressState): void {
  if (a.eni === null) loadOf(ix, a.subnet).parked--;
  else changeEni(s, ix, a.eni, ip, false);
}

function attach(s: FixedState, ix: StateIndex, ip: string, a: AddressState): void {
  if (a.eni === null) loadOf(ix, a.subnet).parked++;
  else changeEni(s, ix, a.eni, ip, true);
}

export function putAddress(s: FixedState, ip: string, a: AddressState): void {
  const ix = indexOf(s);
  const old = s.addresses[ip];
  if (old !== undefined) detach(s, ix, ip, old);
  s.addresses[ip] = a;
  attach(s, ix, ip, a);
  ix.picks.get(a.subnet)?.free.held(toNumber(ip));
}

export function moveAddress(s: FixedState, ip: string, eni: string | null): void {
  const ix = indexOf(s);
  const a = s.addresses[ip]!;
  if (a.eni === eni) return;
  detach(s, ix, ip, a);
  a.eni = eni;
  attach(s, ix, ip, a);
}

export function dropAddress(s: FixedState, ip: string): void {
  const ix = indexOf(s);
  const a = s.addresses[ip];
  if (a === undefined) return;
  detach(s, ix, ip, a);
  delete s.addresses[ip];
  ix.picks.get(a.subnet)?.free.released(toNumber(ip));
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
  if (!p.takenSet.has(ip)) {
    sub.taken.push(ip);
    p.takenSet.add(ip);
  }
  sub.taken.sort();
  p.takenLength = sub.taken.length;
}
