// fast-check properties over random event sequences: pods added and deleted, clock ticks, cloud
// operations succeeding or failing, policy changes. The driver acts like the node agent: after
// every event it calls plan() and starts the decisions it gets.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { allocate, idleCount, release } from "./allocate.ts";
import { applyResult } from "./apply-result.ts";
import { eniRoom, plan } from "./plan.ts";
import { limitsOf } from "./settings.ts";
import {
  assignedOn,
  boundCount,
  busyEnis,
  isPaused,
  pendingBindCount,
  pledgedCount,
  podEnis,
  setSettings,
  setSubnets,
  syncInventory,
} from "./state.ts";
import { FakeCloud, makeState, settings, SUBNET_A, SUBNET_B } from "./pool-kit.ts";
import { ERROR_KINDS, type ErrorKind, type PoolSettings, type PoolState, type Quota } from "./types.ts";
import { seededRng } from "./rng.ts";

type Event =
  | { kind: "add" }
  | { kind: "delete"; pick: number }
  | { kind: "tick"; ms: number }
  | { kind: "complete"; pick: number; error: ErrorKind | null }
  | { kind: "policy"; min: number; extra: number; ipsPerEni: number | null; maxEnis: number | null };

const event = (chaos: boolean): fc.Arbitrary<Event> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant({ kind: "add" as const }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat(1000) }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 200_000 }) }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant("complete" as const),
        pick: fc.nat(1000),
        error: chaos
          ? fc.oneof(
              { weight: 4, arbitrary: fc.constant(null) },
              { weight: 1, arbitrary: fc.constantFrom(...ERROR_KINDS) },
            )
          : fc.constant(null),
      }),
    },
    {
      weight: chaos ? 1 : 0,
      arbitrary: fc.record({
        kind: fc.constant("policy" as const),
        min: fc.integer({ min: 0, max: 8 }),
        extra: fc.integer({ min: 0, max: 6 }),
        ipsPerEni: fc.option(fc.integer({ min: 1, max: 12 }), { nil: null }),
        maxEnis: fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }),
      }),
    },
  );

const scenario = (chaos: boolean) =>
  fc.record({
    quota: fc.record({
      enis: fc.integer({ min: 1, max: 4 }),
      ipsPerEni: fc.integer({ min: 2, max: 12 }),
      ipsPerCall: fc.integer({ min: 1, max: 10 }),
    }),
    min: fc.integer({ min: 0, max: 8 }),
    extra: fc.integer({ min: 0, max: 6 }),
    cooldownMs: fc.constantFrom(0, 30_000),
    seed: fc.integer(),
    events: fc.array(event(chaos), { maxLength: 80, size: "max" }),
  });

/** Thousands of runs take a few seconds; a loaded CI machine must not turn that into a failure. */
const PROPERTY_TIMEOUT_MS = 120_000;

const SUBNETS = { [SUBNET_A]: 5000, [SUBNET_B]: 3000 };

class Driver {
  s: PoolState;
  now = 0;
  nextPod = 0;
  cloud = new FakeCloud();
  rng: () => number;
  constructor(
    base: PoolSettings,
    quota: PoolState["quota"],
    seed: number,
    private readonly onPlan: (before: PoolState, after: PoolState, now: number) => void,
  ) {
    this.s = makeState({ settings: base, quota, subnets: SUBNETS });
    this.rng = seededRng(seed);
    this.plan();
  }
  plan(): void {
    const before = this.s;
    this.s = plan(this.s, this.now).state;
    this.onPlan(before, this.s, this.now);
  }
  retryWaiting(): void {
    for (const key of Object.keys(this.s.waiting)) {
      const r = allocate(this.s, key, this.now, this.rng);
      this.s = r.state;
    }
  }
  apply(e: Event): void {
    switch (e.kind) {
      case "add":
        this.s = allocate(this.s, `net/c${this.nextPod++}/eth0`, this.now, this.rng).state;
        break;
      case "delete": {
        const keys = [...Object.keys(this.s.pods), ...Object.keys(this.s.waiting)];
        const key = keys[e.pick % Math.max(1, keys.length)];
        if (key !== undefined) this.s = release(this.s, key, this.now).state;
        break;
      }
      case "tick":
        this.now += e.ms;
        break;
      case "complete": {
        const op = this.s.inflight[e.pick % Math.max(1, this.s.inflight.length)];
        if (op === undefined) break;
        const result =
          e.error === null ? this.cloud.result(op.decision) : { ok: false as const, error: { kind: e.error } };
        this.s = applyResult(this.s, op.decision.id, result, this.now, { rng: this.rng });
        this.retryWaiting();
        break;
      }
      case "policy":
        this.s = setSettings(
          this.s,
          settings({
            minPrebind: e.min,
            maxPrebind: e.min + e.extra,
            subnets: [SUBNET_A, SUBNET_B],
            ...(e.ipsPerEni === null ? {} : { ipsPerEni: e.ipsPerEni }),
            ...(e.maxEnis === null ? {} : { maxEnisPerNode: e.maxEnis }),
          }),
        );
        break;
    }
    this.plan();
  }
  /** Lets every operation succeed and time pass (past every pause) until nothing changes. */
  converge(): void {
    for (let round = 0; round < 60; round++) {
      // The agent re-reads the cloud now and then; that clears "full" marks from ip-quota errors.
      this.s = syncInventory(
        this.s,
        this.s.enis.map((e) => ({ id: e.id, subnet: e.subnet, primary: e.primary, ips: e.ips.map((x) => x.ip) })),
      ).state;
      // ... and DescribeSubnets, which ends the "exhausted" mark of a subnet that has room again.
      this.s = setSubnets(this.s, SUBNETS);
      this.s = this.cloud.settle(this.s, this.now);
      this.retryWaiting();
      this.now += 11 * 60_000;
      this.plan();
      if (this.s.inflight.length === 0 && !this.s.release.draining && Object.keys(this.s.waiting).length === 0) return;
    }
    throw new Error(`no convergence: ${JSON.stringify(this.s)}`);
  }
}

/** No IP is held by two pods, every assignment matches its slot, no IP sits on two ENIs. */
function checkNoDoubleAssignment(s: PoolState): void {
  const seen = new Set<string>();
  for (const e of s.enis) {
    for (const slot of e.ips) {
      expect(seen.has(slot.ip)).toBe(false);
      seen.add(slot.ip);
      if (slot.pod !== null) expect(s.pods[slot.pod]).toMatchObject({ ip: slot.ip, eni: e.id });
      if (slot.pod !== null) expect(slot.releasing).toBe(false);
    }
  }
  const ips = Object.values(s.pods).map((a) => a.ip);
  expect(new Set(ips).size).toBe(ips.length);
  for (const [key, a] of Object.entries(s.pods)) {
    expect(s.enis.find((e) => e.id === a.eni)?.ips.find((x) => x.ip === a.ip)?.pod).toBe(key);
  }
}

/**
 * Every plan: it never binds past maxBindable. It creates an ENI only for IPs the bound ENIs
 * cannot take: the room they have left counts as theirs (pledged IPs plus that room stay within
 * maxBindable), and a bound ENI with room is at work (a bind in flight) unless binds are paused.
 */
function checkPlan(before: PoolState, after: PoolState, now: number): void {
  const limits = limitsOf(after);
  const added = pendingBindCount(after) - pendingBindCount(before);
  if (added > 0) expect(boundCount(after) + pendingBindCount(after)).toBeLessThanOrEqual(limits.maxBindable);
  expect(podEnis(after).length).toBeLessThanOrEqual(Math.max(after.quota.enis, podEnis(before).length));
  const created = after.inflight.filter(
    (op) => op.decision.action === "create-eni" && !before.inflight.some((b) => b.decision.id === op.decision.id),
  );
  if (created.length === 0) return;
  const busy = busyEnis(after);
  let roomLeft = 0;
  for (const e of podEnis(after)
    .filter((x) => !x.deleting)
    .slice(0, limits.maxEnis)) {
    const room = eniRoom(after, e, now, limits);
    roomLeft += room;
    if (room > 0 && !isPaused(after, "bind", now)) expect(busy.has(e.id)).toBe(true);
  }
  expect(pledgedCount(after) + roomLeft).toBeLessThanOrEqual(limits.maxBindable);
}

/** Runs the scenario and lets it converge, checking the invariants on the way. */
/** Liveness: a pod that waits with no idle IP ready always has an operation working for it. */
function checkNoStall(s: PoolState, now: number): void {
  const waiting = Object.keys(s.waiting).length;
  if (waiting === 0 || idleCount(s, now).ready > 0) return;
  if (boundCount(s) + pendingBindCount(s) >= limitsOf(s).maxBindable) return;
  expect(s.inflight.length).toBeGreaterThan(0);
}

function runScenario(
  sc: { quota: Quota; min: number; extra: number; cooldownMs: number; seed: number; events: Event[] },
  chaos: boolean,
): { d: Driver; policyChanged: boolean } {
  const base = settings({
    minPrebind: sc.min,
    maxPrebind: sc.min + sc.extra,
    cooldownMs: sc.cooldownMs,
    subnets: [SUBNET_A, SUBNET_B],
  });
  const d = new Driver(base, sc.quota, sc.seed, checkPlan);
  const policyChanged = sc.events.some((e) => e.kind === "policy");
  for (const e of sc.events) {
    d.apply(e);
    checkNoDoubleAssignment(d.s);
    if (!chaos) checkNoStall(d.s, d.now); // with cloud errors, pauses and back-off may hold it
    // bound <= maxBindable and ENIs <= maxEnis always, unless the policy just lowered a limit
    // (then rule 3 works it off, checked after convergence).
    if (!policyChanged) {
      expect(boundCount(d.s)).toBeLessThanOrEqual(limitsOf(d.s).maxBindable);
      expect(podEnis(d.s).length).toBeLessThanOrEqual(limitsOf(d.s).maxEnis);
    }
  }
  d.converge();
  checkNoDoubleAssignment(d.s);
  return { d, policyChanged };
}

/** ENIs never more than needed: none empty, podless ones only for the idle IPs prebind keeps. */
function checkEnisNeeded(s: PoolState): void {
  const limits = limitsOf(s);
  const enis = podEnis(s);
  const withPods = enis.filter((e) => assignedOn(e) > 0).length;
  const idle = boundCount(s) - Object.keys(s.pods).length;
  expect(enis.every((e) => e.ips.length > 0)).toBe(true);
  expect(enis.length).toBeLessThanOrEqual(Math.max(limits.maxEnis, withPods)); // a lowered limit: only ENIs with pods stay
  expect(enis.length - withPods).toBeLessThanOrEqual(Math.ceil(s.settings.maxPrebind / limits.ipsPerEni));
  expect(enis.length).toBeLessThanOrEqual(Math.max(1, withPods + Math.ceil(Math.max(0, idle) / limits.ipsPerEni)));
}

describe("pool engine properties", () => {
  test(
    "with cloud errors and policy changes: no IP assigned twice, never past maxBindable, and after convergence pods + min <= bound <= pods + max with no more ENIs than needed",
    () => {
      fc.assert(
        fc.property(scenario(true), (sc) => {
          const { s } = runScenario(sc, true).d;
          const limits = limitsOf(s);
          const pods = Object.keys(s.pods).length;
          const bound = boundCount(s);
          // bound <= maxBindable once converged, even after a lowered limit (pods are never evicted).
          expect(bound).toBeLessThanOrEqual(Math.max(limits.maxBindable, pods));
          // Rule 1 after convergence, unless capped at maxBindable.
          expect(bound).toBeGreaterThanOrEqual(Math.min(pods + s.settings.minPrebind, limits.maxBindable));
          // Rule 2 after a release period.
          expect(bound).toBeLessThanOrEqual(
            Math.max(pods + s.settings.maxPrebind, Math.min(pods + s.settings.minPrebind, limits.maxBindable)),
          );
          checkEnisNeeded(s);
        }),
        { numRuns: 2500 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  test(
    "without errors or policy changes: a waiting pod always has an operation working for it, and no more ENIs than needed",
    () => {
      fc.assert(
        fc.property(scenario(false), (sc) => {
          const { d } = runScenario(sc, false);
          checkEnisNeeded(d.s);
        }),
        { numRuns: 1500 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
