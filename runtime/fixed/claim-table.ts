// The cluster's allocation table in a dense form: a claim and the address it holds are one slot
// (the rules keep them one to one: an address is held for exactly one claim, a claim holds
// exactly one address), stored column by column in typed arrays. Addresses are 32-bit numbers,
// subnets, ENIs and nodes interned names, a reclaim two numbers. Why: at 300,000 claims one
// object per claim and per address, and one string per address, cost more memory than the
// numbers they hold, and every long-lived small object spread between garbage keeps a page
// resident. Reads hand out fresh plain objects (ClaimState, AddressState); writes go through
// the allocator's steps, or putClaim when a controller fills a state from the cluster objects.
import { AddressSlots, NONE } from "./address-slots.ts";
import { toAddress, toNumber } from "./ipv4.ts";
import type { AddressState, ClaimState, Millis, Reclaim } from "./types.ts";

/** One slot as a caller fills it: the claim, and where its address is. */
export interface HeldClaim extends ClaimState {
  subnet: string;
  /** The ENI the address is assigned on; null when kept with no ENI. */
  eni: string | null;
}

const IMMEDIATE: Reclaim = { kind: "Immediate" };
const NEVER: Reclaim = { kind: "Never" };
const KIND = { Immediate: 0, Never: 1, After: 2 } as const;

/**
 * Names (subnet ids, ENI ids, node names) as small numbers: one string per name, not per claim.
 * Never shrinks: a state lives for one controller pass, which sees each name once.
 */
class Names {
  private readonly ids = new Map<string, number>();
  private readonly list: string[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.list.length;
      this.ids.set(name, id);
      this.list.push(name);
    }
    return id;
  }

  /** The id of a name already seen, or NONE. */
  find(name: string): number {
    return this.ids.get(name) ?? NONE;
  }

  name(id: number): string {
    return this.list[id]!;
  }
}

function grown<T extends Uint32Array | Int32Array | Float64Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

export class ClaimTable {
  readonly names = new Names();
  /** Claim key -> slot, in the order claims came (as a record's keys would be). */
  private readonly slotOfKey = new Map<string, number>();
  private readonly slotOfIp = new AddressSlots();
  private keyAt: (string | undefined)[] = [];
  private ip = new Uint32Array(64);
  private subnetAt = new Int32Array(64);
  private eniAt = new Int32Array(64);
  private nodeAt = new Int32Array(64);
  private kind = new Uint8Array(64);
  private ms = new Float64Array(64);
  private expires = new Float64Array(64);
  private deletedAt = new Uint8Array(64);
  private readonly freeSlots: number[] = [];
  /** Changes made by putClaim from outside the allocator's steps (the index compares it). */
  outsideEdits = 0;

  get size(): number {
    return this.slotOfKey.size;
  }

  slotOfClaim(key: string): number {
    return this.slotOfKey.get(key) ?? NONE;
  }

  slotOfAddress(ip: string | number): number {
    return this.slotOfIp.get(typeof ip === "number" ? ip : toNumber(ip));
  }

  /** Slots in the order their claims came. */
  slots(): IterableIterator<number> {
    return this.slotOfKey.values();
  }

  // Columns, by slot.
  key(slot: number): string {
    return this.keyAt[slot]!;
  }
  ipOf(slot: number): number {
    return this.ip[slot]!;
  }
  address(slot: number): string {
    return toAddress(this.ip[slot]!);
  }
  subnet(slot: number): string {
    return this.names.name(this.subnetAt[slot]!);
  }
  eni(slot: number): string | null {
    const e = this.eniAt[slot]!;
    return e === NONE ? null : this.names.name(e);
  }
  node(slot: number): string | null {
    const n = this.nodeAt[slot]!;
    return n === NONE ? null : this.names.name(n);
  }
  /** The node's interned id (NONE: no pod runs), for comparisons without strings. */
  nodeId(slot: number): number {
    return this.nodeAt[slot]!;
  }
  expiresAt(slot: number): Millis | null {
    const t = this.expires[slot]!;
    return Number.isNaN(t) ? null : t;
  }
  deleted(slot: number): boolean {
    return this.deletedAt[slot] === 1;
  }
  reclaim(slot: number): Reclaim {
    const k = this.kind[slot]!;
    return k === KIND.Immediate ? IMMEDIATE : k === KIND.Never ? NEVER : { kind: "After", ms: this.ms[slot]! };
  }
  reclaimKind(slot: number): Reclaim["kind"] {
    const k = this.kind[slot]!;
    return k === KIND.Immediate ? "Immediate" : k === KIND.Never ? "Never" : "After";
  }

  claimState(slot: number): ClaimState {
    return {
      address: this.address(slot),
      reclaim: this.reclaim(slot),
      node: this.node(slot),
      expiresAt: this.expiresAt(slot),
      deleted: this.deleted(slot),
    };
  }

  addressState(slot: number): AddressState {
    return { subnet: this.subnet(slot), claim: this.key(slot), eni: this.eni(slot) };
  }

  // Writes (the index in state-index.ts follows the allocator's own; see putClaim).

  /**
   * A claim and its address in one slot; replaces the claim's slot if it has one, and takes the
   * address from any other claim that held it (that claim goes: the two are one to one).
   */
  put(key: string, c: HeldClaim): number {
    const ip = toNumber(c.address);
    const other = this.slotOfIp.get(ip);
    let slot = this.slotOfKey.get(key);
    if (other !== NONE && other !== slot) this.drop(other);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.keyAt.length;
      if (slot >= this.ip.length) this.resize(this.ip.length * 2);
      this.keyAt[slot] = key;
      this.slotOfKey.set(key, slot);
    } else if (this.ip[slot] !== ip) this.slotOfIp.delete(this.ip[slot]!);
    this.ip[slot] = ip;
    this.slotOfIp.set(ip, slot);
    this.subnetAt[slot] = this.names.id(c.subnet);
    this.setEni(slot, c.eni);
    this.setClaim(slot, c);
    return slot;
  }

  setEni(slot: number, eni: string | null): void {
    this.eniAt[slot] = eni === null ? NONE : this.names.id(eni);
  }

  setClaim(slot: number, c: Omit<ClaimState, "address">): void {
    this.setReclaim(slot, c.reclaim);
    this.setNode(slot, c.node);
    this.expires[slot] = c.expiresAt ?? Number.NaN;
    this.deletedAt[slot] = c.deleted ? 1 : 0;
  }

  setReclaim(slot: number, r: Reclaim): void {
    this.kind[slot] = KIND[r.kind];
    this.ms[slot] = r.kind === "After" ? r.ms : 0;
  }

  setNode(slot: number, node: string | null): void {
    this.nodeAt[slot] = node === null ? NONE : this.names.id(node);
  }

  setExpiresAt(slot: number, at: Millis | null): void {
    this.expires[slot] = at ?? Number.NaN;
  }

  setDeleted(slot: number): void {
    this.deletedAt[slot] = 1;
  }

  /** The claim and its address leave the table. */
  drop(slot: number): void {
    const key = this.keyAt[slot];
    if (key === undefined) return;
    this.slotOfKey.delete(key);
    this.slotOfIp.delete(this.ip[slot]!);
    this.keyAt[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private resize(size: number): void {
    this.ip = grown(this.ip, size);
    this.subnetAt = grown(this.subnetAt, size);
    this.eniAt = grown(this.eniAt, size);
    this.nodeAt = grown(this.nodeAt, size);
    this.kind = grown(this.kind, size);
    this.ms = grown(this.ms, size);
    this.expires = grown(this.expires, size);
    this.deletedAt = grown(this.deletedAt, size);
  }
}

/** What a controller and the tests read: claims by key, as plain objects made on each read. */
export class ClaimsView {
  constructor(readonly table: ClaimTable) {}
  private get t(): ClaimTable {
    return this.table;
  }
  get size(): number {
    return this.t.size;
  }
  get(key: string): ClaimState | undefined {
    const slot = this.t.slotOfClaim(key);
    return slot === NONE ? undefined : this.t.claimState(slot);
  }
  has(key: string): boolean {
    return this.t.slotOfClaim(key) !== NONE;
  }
  *keys(): IterableIterator<string> {
    for (const slot of this.t.slots()) yield this.t.key(slot);
  }
  *values(): IterableIterator<ClaimState> {
    for (const slot of this.t.slots()) yield this.t.claimState(slot);
  }
  *entries(): IterableIterator<[string, ClaimState]> {
    for (const slot of this.t.slots()) yield [this.t.key(slot), this.t.claimState(slot)];
  }
  [Symbol.iterator](): IterableIterator<[string, ClaimState]> {
    return this.entries();
  }
  /** The persisted shape: a record of claims by key. */
  toJSON(): Record<string, ClaimState> {
    const out: Record<string, ClaimState> = {};
    for (const slot of this.t.slots()) out[this.t.key(slot)] = this.t.claimState(slot);
    return out;
  }
}

/** The allocation table by address, over the same slots. */
export class AddressesView {
  constructor(private readonly t: ClaimTable) {}
  get size(): number {
    return this.t.size;
  }
  get(ip: string): AddressState | undefined {
    const slot = this.t.slotOfAddress(ip);
    return slot === NONE ? undefined : this.t.addressState(slot);
  }
  has(ip: string): boolean {
    return this.t.slotOfAddress(ip) !== NONE;
  }
  *keys(): IterableIterator<string> {
    for (const slot of this.t.slots()) yield this.t.address(slot);
  }
  *values(): IterableIterator<AddressState> {
    for (const slot of this.t.slots()) yield this.t.addressState(slot);
  }
  *entries(): IterableIterator<[string, AddressState]> {
    for (const slot of this.t.slots()) yield [this.t.address(slot), this.t.addressState(slot)];
  }
  [Symbol.iterator](): IterableIterator<[string, AddressState]> {
    return this.entries();
  }
  /** The persisted shape: a record of addresses. */
  toJSON(): Record<string, AddressState> {
    const out: Record<string, AddressState> = {};
    for (const slot of this.t.slots()) out[this.t.address(slot)] = this.t.addressState(slot);
    return out;
  }
}

export { NONE };
