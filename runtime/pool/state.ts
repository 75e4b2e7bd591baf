// Building, copying and updating a PoolState from what the agent observes. Every function
// returns a new state; the caller's object is never changed, so a failed transaction in the
// agent can simply keep the old one.
import { checkSettings } from "./settings.ts";
import type {
  Action,
  Backoff,
  EniInventory,
  EniState,
  Millis,
  PodRef,
  PoolSettings,
  PoolState,
  Quota,
} from "./types.ts";
import { POOL_STATE_VERSION } from "./types.ts";

export const ACTIONS: readonly Action[] = ["bind", "create-eni", "release", "delete-eni"];

/** Stable string key of a CNI attachment. CNI network names and ifnames cannot contain "/". */
export function podKey(ref: PodRef): string {
  return `${ref.network}/${ref.containerId}/${ref.ifname}`;
}

export interface CreateStateInput {
  settings: PoolSettings;
  quota: Quota;
  /** Free IPs per subnet id; subnets of the policy that are missing count as 0. */
  subnets: Record<string, number>;
  enis?: EniInventory[];
}

export function createState(input: CreateStateInput): PoolState {
  checkSettings(input.settings, input.quota);
  const noBackoff = (): Backoff => ({ failures: 0, until: 0 });
  const base: PoolState = {
    version: POOL_STATE_VERSION,
    settings: { ...input.settings, subnets: [...input.settings.subnets] },
    quota: { ...input.quota },
    enis: [],
    subnets: [],
    pods: {},
    waiting: {},
    inflight: [],
    nextOpSeq: 1,
    release: { dueAt: null, draining: false },
    backoff: { bind: noBackoff(), "create-eni": noBackoff(), release: noBackoff(), "delete-eni": noBackoff() },
    paused: { createUntil: 0, allUntil: 0 },
  };
  const withSubnets = setSubnets(base, input.subnets);
  return input.enis ? syncInventory(withSubnets, input.enis).state : withSubnets;
}

/** A deep copy; cheaper than structuredClone and keeps the shape exact. */
export function cloneState(s: PoolState): PoolState {
  return {
    version: s.version,
    settings: { ...s.settings, subnets: [...s.settings.subnets] },
    quota: { ...s.quota },
    enis: s.enis.map((e) => ({ ...e, ips: e.ips.map((ip) => ({ ...ip })) })),
    subnets: s.subnets.map((n) => ({ ...n })),
    // Assignments are replaced, never changed in place, so sharing them is safe.
    pods: { ...s.pods },
    waiting: { ...s.waiting },
    inflight: s.inflight.map((op) => ({ startedAt: op.startedAt, decision: cloneDecision(op.decision) })),
    nextOpSeq: s.nextOpSeq,
    release: { ...s.release },
    backoff: {
      bind: { ...s.backoff.bind },
      "create-eni": { ...s.backoff["create-eni"] },
      release: { ...s.backoff.release },
      "delete-eni": { ...s.backoff["delete-eni"] },
    },
    paused: { ...s.paused },
  };
}

function cloneDecision<D extends { action: string }>(d: D): D {
  return "ips" in d && Array.isArray(d.ips) ? { ...d, ips: [...d.ips] } : { ...d };
}

/** A policy change: new prebind, limits, timers or subnets take effect at the next plan. */
export function setSettings(state: PoolState, settings: PoolSettings): PoolState {
  checkSettings(settings, state.quota);
  const s = cloneState(state);
  s.settings = { ...settings, subnets: [...settings.subnets] };
  return setSubnets(s, Object.fromEntries(state.subnets.map((n) => [n.id, n.available])));
}

export function setQuota(state: PoolState, quota: Quota): PoolState {
  checkSettings(state.settings, quota);
  const s = cloneState(state);
  s.quota = { ...quota };
  return s;
}

/** Fresh DescribeSubnets counts. Keeps the pause of a subnet that recently said "exhausted". */
export function setSubnets(state: PoolState, available: Record<string, number>): PoolState {
  const s = cloneState(state);
  const paused = new Map(state.subnets.map((n) => [n.id, n.pausedUntil]));
  s.subnets = s.settings.subnets.map((id) => {
    const value = available[id] ?? 0;
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`subnets[${JSON.stringify(id)}] (${value}) must be an integer >= 0`);
    return { id, available: value, pausedUntil: paused.get(id) ?? 0 };
  });
  return s;
}

/**
 * Cloud truth (DescribeNetworkInterfaces) replaces the engine's ENIs and IPs. Pod assignments,
 * cooldowns and in-flight marks survive for IPs that still exist; pods whose IP is gone are
 * dropped and returned so the agent can report them.
 */
export function syncInventory(state: PoolState, inventory: EniInventory[]): { state: PoolState; lostPods: string[] } {
  const s = cloneState(state);
  const old = new Map(state.enis.map((e) => [e.id, e]));
  s.enis = [...inventory]
    .sort((a, b) => cmp(a.id, b.id))
    .map((inv): EniState => {
      const before = old.get(inv.id);
      const slots = new Map(before?.ips.map((slot) => [slot.ip, slot]));
      return {
        id: inv.id,
        subnet: inv.subnet,
        primary: inv.primary,
        ips: [...new Set(inv.ips)]
          .sort(cmp)
          .map((ip) => ({ ...(slots.get(ip) ?? { ip, pod: null, coolUntil: 0, releasing: false }) })),
        full: false,
        deleting: before?.deleting ?? false,
      };
    });
  // An ENI being deleted is attached nowhere once its detach worked, so the inventory (the
  // node's attached ENIs) no longer lists it: it is kept, marked, until its delete is done
  // (rule 5e), or it would leak in the cloud.
  const listed = new Set(inventory.map((inv) => inv.id));
  const detached = state.enis.filter((e) => e.deleting && !e.primary && !listed.has(e.id));
  if (detached.length > 0)
    s.enis = [...s.enis, ...detached.map((e) => ({ ...e, ips: [] }))].sort((a, b) => cmp(a.id, b.id));
  // A create whose ENI is in the pool already (applyProgress, then a restart) pledges only what
  // is still to come: what the cloud lists on it beyond what the pool had is not.
  for (const op of s.inflight) {
    const d = op.decision;
    if (d.action !== "create-eni" || d.eni === undefined) continue;
    const added = (s.enis.find((e) => e.id === d.eni)?.ips.length ?? 0) - (old.get(d.eni)?.ips.length ?? 0);
    if (added > 0) op.decision = { ...d, ips: Math.max(0, d.ips - added) };
  }
  const present = new Set(s.enis.flatMap((e) => (e.primary ? [] : e.ips.map((slot) => `${e.id} ${slot.ip}`))));
  const lostPods: string[] = [];
  for (const [key, a] of Object.entries(s.pods)) {
    if (!present.has(`${a.eni} ${a.ip}`)) {
      delete s.pods[key];
      lostPods.push(key);
    }
  }
  return { state: s, lostPods: lostPods.sort(cmp) };
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** ENIs the rules work with: not the primary one. */
export function podEnis(s: PoolState): EniState[] {
  return s.enis.filter((e) => !e.primary);
}

export function assignedOn(e: EniState): number {
  let n = 0;
  for (const slot of e.ips) if (slot.pod !== null) n++;
  return n;
}

/** Bound IPs a pod may hold now or later: all secondary IPs on pod ENIs except those being released. */
export function boundCount(s: PoolState): number {
  let n = 0;
  for (const e of s.enis) if (!e.primary) for (const slot of e.ips) if (!slot.releasing) n++;
  return n;
}

/** IPs that in-flight binds and creates will add once they succeed. */
export function pendingBindCount(s: PoolState): number {
  let n = 0;
  for (const op of s.inflight) {
    const d = op.decision;
    if (d.action === "bind") n += d.count;
    else if (d.action === "create-eni") n += d.ips;
  }
  return n;
}

/** Bound IPs plus those in-flight binds and creates will add. */
export function pledgedCount(s: PoolState): number {
  return boundCount(s) + pendingBindCount(s);
}

export function demandCount(s: PoolState): number {
  return Object.keys(s.pods).length + Object.keys(s.waiting).length;
}

export function busyEnis(s: PoolState): Set<string> {
  const busy = new Set<string>();
  // a create-eni's too, once its ENI is in the pool (applyProgress)
  for (const { decision: d } of s.inflight) if (d.eni !== undefined) busy.add(d.eni);
  return busy;
}

export function isPaused(s: PoolState, action: Action, now: Millis): boolean {
  if (now < s.paused.allUntil) return true;
  if (action === "create-eni" && now < s.paused.createUntil) return true;
  return now < s.backoff[action].until;
}
