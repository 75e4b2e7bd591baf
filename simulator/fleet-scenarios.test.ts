// The rolling restart and the diurnal day of `simulate --fleet`: the fleet invariants as
// properties, hand-computed figures, and the pure pieces (the day curve, the rollout, warm pools).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createState, limitsOf, seededRng, settingsFromPolicy, summary } from "../runtime/pool/index.ts";
import { fleetSpec } from "./fleet-kit.ts";
import { type FleetOptions, RTT_MS, simulateFleet } from "./fleet.ts";
import { RETRY_STRATEGIES } from "./fleet-retry.ts";
import { diurnal, nodeCurve, podsWanted, Rollout, rollingRestart } from "./fleet-scenario.ts";
import { warmState } from "./fleet-warm.ts";

const spec = fleetSpec;
const quota = { enis: 3, ipsPerEni: 20, ipsPerCall: 10 };
const base = (scenario: FleetOptions["scenario"], over: Partial<FleetOptions> = {}): FleetOptions => ({
  scenario,
  settings: settingsFromPolicy(spec()),
  quota,
  strategy: "jitter",
  seed: 3,
  check: true,
  ...over,
});
/** A short day, so that a property run takes milliseconds: 2 h, pods living ~10 min. */
const shortDay = (nodes: number, peak: number, trough: number, jitter: number) =>
  diurnal(nodes, peak, {
    troughPods: trough,
    nodeJitter: jitter,
    dayMs: 2 * 3600_000,
    troughAtMs: 0,
    podLifeMs: 600_000,
  });

describe("rolling restart", () => {
  test("no pod churn: each restart costs the three start-up reads and nothing else, one after another", () => {
    const nodes = 12;
    const r = simulateFleet(base(rollingRestart(nodes, 30, { podLifeMs: 0 })));
    // The pools are already where the engine wants them: no mutation, no task poll.
    expect(r.calls).toEqual({
      DescribeNetworkInterfaceLimit: { accepted: nodes, throttled: 0 },
      DescribeNetworkInterfaces: { accepted: nodes, throttled: 0 },
      DescribeSubnets: { accepted: nodes, throttled: 0 },
    });
    // Each agent: 10 s down, then three reads of one round trip each; the next stops when it is ready.
    const perAgent = (10_000 + 3 * RTT_MS) / 1000;
    expect(r.restartS).toEqual({ count: nodes, p50: perAgent, p99: perAgent, max: perAgent });
    expect(r.endS).toBeCloseTo(60 + nodes * perAgent, 6);
    // 30 pods and a prebind of 5/5: 35 bound, 5 idle per node, before and after.
    expect(r.idleIps).toEqual({ atLastPod: 5 * nodes, peak: 5 * nodes, mean: 5 * nodes });
    expect(r.pods.asked).toBe(0);
  });

  test("two at a time with a 20 s pause: batches of two, each 20 s after the last ready", () => {
    const r = simulateFleet(base(rollingRestart(6, 10, { podLifeMs: 0, maxUnavailable: 2, pauseMs: 20_000 })));
    // 3 batches; the 2nd and 3rd start 20 s after the previous batch's ready
    expect(r.endS).toBeCloseTo(60 + 3 * 10.09 + 2 * 20, 6);
  });

  test("all 100 agents at once: their limit reads exceed 20/s and are refused; one at a time none is", () => {
    const all = simulateFleet(base(rollingRestart(100, 10, { podLifeMs: 0, maxUnavailable: 100 })));
    const one = simulateFleet(base(rollingRestart(100, 10, { podLifeMs: 0 })));
    expect(all.calls.DescribeNetworkInterfaceLimit?.throttled).toBeGreaterThan(0);
    expect(one.throttled).toBe(0);
    // 100 reads at 20/s (burst 20): the last agent is ready >= 4 s after the first could be
    expect(all.restartS?.max).toBeGreaterThanOrEqual(10.09 + 4);
    expect(all.endS).toBeLessThan(one.endS as number);
  });

  test("pods created while their node's agent is down wait for it: the longest wait is about one restart", () => {
    const r = simulateFleet(base(rollingRestart(20, 40, { podLifeMs: 5 * 60_000 })));
    expect(r.pods.unserved).toBe(0);
    expect(r.pods.asked).toBeGreaterThan(50);
    expect(r.podWaitS.max).toBeGreaterThan(1);
    expect(r.podWaitS.max).toBeLessThanOrEqual(10.09 + 1);
    expect(r.restartS?.count).toBe(20);
  });

  test("the same seed gives the same report", () => {
    const sc = rollingRestart(15, 20, { podLifeMs: 10 * 60_000, maxUnavailable: 3 });
    expect(simulateFleet(base(sc))).toEqual(simulateFleet(base(sc)));
  });

  test("invariants: no IP twice, no node above maxBindable, every pod served, every agent back (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom(0, 60_000, 600_000),
        fc.constantFrom(...RETRY_STRATEGIES),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 0, max: 1000 }),
        (nodes, pods, maxUnavailable, pauseS, podLifeMs, strategy, rate, seed) => {
          const r = simulateFleet(
            base(
              rollingRestart(nodes, pods, {
                maxUnavailable: Math.min(nodes, maxUnavailable),
                pauseMs: pauseS * 1000,
                podLifeMs,
              }),
              { strategy, seed, rates: { DescribeNetworkInterfaceLimit: rate, DescribeVpcTaskResult: rate } },
            ),
          );
          expect(r.pods.unserved).toBe(0);
          expect(r.restartS?.count).toBe(nodes);
          expect(r.endS).not.toBeNull();
        },
      ),
      { numRuns: 40, seed: 19 },
    );
  });
});

describe("diurnal day", () => {
  test("the pods follow the curve: few at the trough, the peak at noon of the short day, back at the end", () => {
    const r = simulateFleet(base(shortDay(10, 50, 5, 0)));
    expect(r.pods.unserved).toBe(0);
    // idle IPs stay within the prebind band per node (5 to 5 above the pods, plus binds in flight)
    expect(r.idleIps.mean).toBeGreaterThanOrEqual(10 * 4);
    expect(r.idleIps.mean).toBeLessThanOrEqual(10 * 20);
    // The pools grow into a 3rd ENI at the peak and give it back at night.
    expect(r.calls.CreateNetworkInterface?.accepted).toBeGreaterThanOrEqual(20);
    expect(r.calls.DeleteNetworkInterface?.accepted).toBeGreaterThanOrEqual(10);
    expect(r.calls.UnassignPrivateIpAddresses?.accepted).toBeGreaterThan(0);
  });

  test("the same seed gives the same report; another seed another day", () => {
    const a = simulateFleet(base(shortDay(8, 30, 3, 0.3)));
    expect(simulateFleet(base(shortDay(8, 30, 3, 0.3)))).toEqual(a);
    expect(simulateFleet(base(shortDay(8, 30, 3, 0.3), { seed: 4 }))).not.toEqual(a);
  });

  test("invariants: no IP twice, no node above maxBindable, every pod served (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 80 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.9, noNaN: true }),
        fc.constantFrom(...RETRY_STRATEGIES),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 0, max: 1000 }),
        (nodes, peak, troughShare, jitter, strategy, rate, seed) => {
          const r = simulateFleet(
            base(shortDay(nodes, peak, Math.floor(peak * troughShare), jitter), {
              strategy,
              seed,
              rates: { DescribeVpcTaskResult: rate, AttachNetworkInterface: rate },
            }),
          );
          expect(r.pods.unserved).toBe(0);
          expect(r.maxBindable).toBe(60);
        },
      ),
      { numRuns: 30, seed: 19 },
    );
  });
});

describe("the pure pieces", () => {
  test("the day curve: the trough at troughAt, the peak half a day later, capped at what a node may bind", () => {
    const sc = diurnal(1, 40, { troughPods: 4, nodeJitter: 0 });
    const flat = { scale: 1, shiftMs: 0 };
    expect(podsWanted(sc, flat, sc.troughAtMs, 60)).toBe(4);
    expect(podsWanted(sc, flat, sc.troughAtMs + sc.dayMs / 2, 60)).toBe(40);
    expect(podsWanted(sc, flat, sc.troughAtMs + sc.dayMs / 2, 30)).toBe(30);
    const jittered = nodeCurve(diurnal(1, 40, { nodeJitter: 0.2 }), seededRng(1));
    expect(jittered.scale).toBeGreaterThanOrEqual(0.8);
    expect(jittered.scale).toBeLessThanOrEqual(1.2);
    expect(Math.abs(jittered.shiftMs)).toBeLessThanOrEqual(0.2 * 3600_000);
  });

  test("the rollout: maxUnavailable at first, then one per ready agent, finished with the last ready", () => {
    const r = new Rollout(3, 2, 5_000);
    expect(r.begin(100)).toEqual([
      { node: 0, at: 100 },
      { node: 1, at: 100 },
    ]);
    expect(r.readyAt(200)).toEqual({ node: 2, at: 5_200 });
    expect(r.readyAt(300)).toBeNull();
    expect(r.finishedAt).toBeNull();
    expect(r.readyAt(6_000)).toBeNull();
    expect(r.finishedAt).toBe(6_000);
  });

  test("a warm node holds its pods and a pool within the prebind band; too many pods are refused by name", () => {
    const settings = settingsFromPolicy(spec({ min: 3, max: 8 }));
    let ip = 0;
    const answer = (d: { action: string; count?: number; ips?: unknown }) => {
      const n = d.action === "bind" ? (d.count as number) : d.action === "create-eni" ? (d.ips as number) : 0;
      const ips = Array.from({ length: n }, () => `10.0.${ip >> 8}.${ip++ & 255}`);
      return d.action === "create-eni" ? { ok: true as const, eni: `eni-${ip}`, ips } : { ok: true as const, ips };
    };
    const fresh = createState({ settings, quota, subnets: { "subnet-aaaaaaaa": 1000 } });
    const keys = Array.from({ length: 33 }, (_, i) => `fleet/p${i}/eth0`);
    const s = warmState(fresh, keys, 0, 3600_000, answer, seededRng(1));
    expect(Object.keys(s.pods).length).toBe(33);
    const { bound } = summary(s, 3600_000);
    expect(bound).toBeGreaterThanOrEqual(33 + 3);
    expect(bound).toBeLessThanOrEqual(33 + 8);
    const max = limitsOf({ settings, quota }).maxBindable;
    const tooMany = Array.from({ length: max + 1 }, (_, i) => `fleet/q${i}/eth0`);
    expect(() => warmState(fresh, tooMany, 0, 3600_000, answer, seededRng(1))).toThrow(
      `a warm node cannot hold ${max + 1} pods`,
    );
  });
});
