// Each function the rule table at the top of plan.ts names, tested on its own (rules.test.ts
// tests the same rules through plan(), allocate() and release()).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { allocate, mostAssignedEni, release } from "./allocate.ts";
import {
  bindNeed,
  countsOf,
  decisionSink,
  deleteDetachedAgain,
  deleteEmptyEnis,
  eniRoom,
  fillBoundEnis,
  releaseAboveLimits,
  releaseLeastAssigned,
  releaseOnTimer,
  subnetForNewEni,
} from "./plan.ts";
import { limitsOf } from "./settings.ts";
import { cloneState, setSettings } from "./state.ts";
import { assignTo, fixedRng, ips, makeState, settings, SUBNET_A, SUBNET_B, withPods } from "./pool-kit.ts";
import type { EniInventory, EniState, PoolState } from "./types.ts";

/** What plan() hands each rule: a working copy of the state, the limits and a decision sink. */
function step(state: PoolState, now = 0) {
  const s = cloneState(state);
  return { s, limits: limitsOf(s), ...decisionSink(s, now) };
}

const eni = (n: number, count: number, subnet = SUBNET_A): EniInventory => ({
  id: `eni-0000000${n}`,
  subnet,
  primary: false,
  ips: ips(n, count),
});

describe("the rule table in plan.ts", () => {
  test("names, for every rule, a function its file exports", async () => {
    const text = readFileSync(join(import.meta.dir, "plan.ts"), "utf8");
    const rows = [...text.matchAll(/^\/\/ {3}(\d[a-e]?|off) {1,2}\S.*? {2,}(\w+) +(\S+\.ts)$/gm)].map((m) => ({
      rule: m[1],
      fn: m[2] as string,
      file: m[3] as string,
    }));
    expect([...new Set(rows.map((r) => r.rule))]).toEqual([
      "1",
      "2",
      "3",
      "4",
      "5a",
      "5b",
      "5c",
      "5d",
      "5e",
      "6",
      "7",
      "8",
      "off",
    ]);
    for (const r of rows) {
      const mod = (await import(`./${r.file}`)) as Record<string, unknown>;
      expect(typeof mod[r.fn], `rule ${r.rule}: ${r.fn} in ${r.file}`).toBe("function");
    }
  });
});

describe("one function per rule", () => {
  test("rule 1 bindNeed: pods + minPrebind minus what is bound or being bound, never past maxBindable", () => {
    const four = withPods(makeState({ enis: [eni(1, 4)] }), 3);
    expect(bindNeed(four, countsOf(four), 0, limitsOf(four))).toBe(4); // pods 3 + min 5 = 8, 4 bound
    const t = step(four);
    t.emit({ id: "op-9", action: "bind", eni: "eni-00000001", count: 3 });
    expect(bindNeed(t.s, countsOf(t.s), 0, t.limits)).toBe(1); // an in-flight bind counts as bound
    const capped = withPods(makeState({ quota: { enis: 1, ipsPerEni: 6 }, enis: [eni(1, 4)] }), 4);
    expect(bindNeed(capped, countsOf(capped), 0, limitsOf(capped))).toBe(2); // 9 wanted, maxBindable 6
    const floor = makeState({
      settings: { minPrebind: 0, maxPrebind: 0, floor: 12 },
      quota: { enis: 2 },
      enis: [eni(1, 4)],
    });
    expect(bindNeed(floor, countsOf(floor), 0, limitsOf(floor))).toBe(8);
    const surplus = withPods(makeState({ enis: [eni(1, 9)] }), 1);
    expect(bindNeed(surplus, countsOf(surplus), 0, limitsOf(surplus))).toBeLessThanOrEqual(0);
  });

  test("rule 1 bindNeed (with rule 4): a pod that finds only cooling IPs needs one more", () => {
    let s = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: [eni(1, 1)] });
    s = release(allocate(s, "net/a/eth0", 0, fixedRng(0)).state, "net/a/eth0", 1_000).state;
    s = allocate(s, "net/b/eth0", 2_000, fixedRng(0)).state; // waits: the one IP cools until 31 s
    expect(bindNeed(s, countsOf(s), 2_000, limitsOf(s))).toBe(1);
    expect(bindNeed(s, countsOf(s), 31_000, limitsOf(s))).toBe(0);
  });

  test("rule 2 releaseOnTimer: a steady cadence; at each tick a surplus goes; a bind in flight delays the tick's release, never the next tick", () => {
    const s = withPods(makeState({ enis: [eni(1, 9)] }), 1); // pods 1 + max 5 = 6 < 9 bound
    const armed = step(s, 0);
    releaseOnTimer(armed.s, countsOf(armed.s), 0, armed.limits, armed.emit);
    expect(armed.decisions).toEqual([]);
    expect(armed.s.release).toEqual({ dueAt: 120_000, draining: false });
    const early = step(armed.s, 119_999);
    releaseOnTimer(early.s, countsOf(early.s), 119_999, early.limits, early.emit);
    expect(early.decisions).toEqual([]);
    const due = step(armed.s, 120_000);
    releaseOnTimer(due.s, countsOf(due.s), 120_000, due.limits, due.emit);
    expect(due.decisions).toEqual([{ id: "op-1", action: "release", eni: "eni-00000001", ips: ips(1, 3, 2) }]);
    // the next tick is one interval on, whatever happens now
    expect(due.s.release).toEqual({ dueAt: 240_000, draining: true });
    // a bind in flight at the tick: no release yet, the tick stays pending, the cadence goes on
    const binding = step(armed.s, 120_000);
    binding.emit({ id: "op-9", action: "bind", eni: "eni-00000001", count: 1 });
    releaseOnTimer(binding.s, countsOf(binding.s), 120_000, binding.limits, binding.emit);
    expect(binding.decisions.map((d) => d.action)).toEqual(["bind"]);
    expect(binding.s.release).toEqual({ dueAt: 240_000, draining: true });
    // no surplus at the tick: nothing, and the tick is done
    const none = step(withPods(makeState({ enis: [eni(1, 6)] }), 1), 0);
    releaseOnTimer(none.s, countsOf(none.s), 0, none.limits, none.emit);
    releaseOnTimer(none.s, countsOf(none.s), 120_000, none.limits, none.emit);
    expect(none.decisions).toEqual([]);
    expect(none.s.release).toEqual({ dueAt: 240_000, draining: false });
    // a clock that jumped back by an hour: the cadence re-anchors on now; forward by an hour: one tick
    const back = step(armed.s, 0);
    releaseOnTimer(back.s, countsOf(back.s), -3_600_000, back.limits, back.emit);
    expect(back.s.release.dueAt).toBe(-3_600_000 + 120_000);
    const ahead = step(armed.s, 0);
    releaseOnTimer(ahead.s, countsOf(ahead.s), 3_600_000, ahead.limits, ahead.emit);
    expect(ahead.decisions).toHaveLength(1);
    expect(ahead.s.release).toEqual({ dueAt: 3_720_000, draining: true });
  });

  test("rule 3 releaseAboveLimits: per ENI past a lowered limit, then node-wide down to maxBindable, at once", () => {
    const under = step(withPods(makeState({ enis: [eni(1, 9)] }), 1));
    expect(releaseAboveLimits(under.s, 0, under.limits, under.emit)).toBe(false);
    expect(under.decisions).toEqual([]);
    // eni-1 10 IPs with 5 pods, eni-2 6 IPs with 3 pods; maxEnisPerNode 1: maxBindable 10 < 16.
    let s = makeState({ enis: [eni(1, 10), eni(2, 6)] });
    for (const ip of ips(1, 5)) s = assignTo(s, "eni-00000001", ip, `net/${ip}/eth0`);
    for (const ip of ips(2, 3)) s = assignTo(s, "eni-00000002", ip, `net/${ip}/eth0`);
    s = setSettings(s, settings({ maxEnisPerNode: 1 }));
    const over = step({ ...s, release: { dueAt: 60_000, draining: false } });
    expect(releaseAboveLimits(over.s, 0, over.limits, over.emit)).toBe(true);
    expect(over.decisions).toEqual([
      { id: "op-1", action: "release", eni: "eni-00000002", ips: ips(2, 3, 4) }, // past maxEnisPerNode: its idle IPs
      { id: "op-2", action: "release", eni: "eni-00000001", ips: ["10.1.0.10", "10.1.0.6", "10.1.0.7"] }, // 13 > 10: 3 more
    ]);
    // the surplus went at once; rule 2's cadence goes on
    expect(over.s.release).toEqual({ dueAt: 60_000, draining: false });
  });

  test("rule 5a mostAssignedEni: the ENI with the most assigned IPs that has an idle IP ready; ties: lowest id", () => {
    const two = makeState({ enis: [eni(1, 5), eni(2, 5)] });
    expect(mostAssignedEni(two, 0)?.id).toBe("eni-00000001");
    const s = assignTo(two, "eni-00000002", "10.2.0.1", "net/z/eth0");
    expect(mostAssignedEni(s, 0)?.id).toBe("eni-00000002");
    // Only cooling IPs left on eni-2: the pod goes to eni-1 rather than wait.
    let cooling = makeState({ enis: [eni(1, 5), eni(2, 2)] });
    cooling = assignTo(cooling, "eni-00000002", "10.2.0.1", "net/z/eth0");
    cooling = release(assignTo(cooling, "eni-00000002", "10.2.0.2", "net/y/eth0"), "net/y/eth0", 0).state;
    expect(mostAssignedEni(cooling, 1_000)?.id).toBe("eni-00000001");
    expect(mostAssignedEni(cooling, 30_000)?.id).toBe("eni-00000002");
    expect(mostAssignedEni(makeState({ enis: [{ ...eni(0, 5), primary: true }] }), 0)).toBeUndefined();
  });

  test("rule 5b releaseLeastAssigned: idle IPs from the ENI with the fewest assigned IPs first", () => {
    let s = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: [eni(1, 4), eni(2, 4)] });
    for (const ip of ips(1, 3)) s = assignTo(s, "eni-00000001", ip, `net/${ip}/eth0`);
    const t = step(s);
    releaseLeastAssigned(t.s, 5, 0, t.limits, t.emit);
    expect(t.decisions).toEqual([
      { id: "op-1", action: "release", eni: "eni-00000002", ips: ips(2, 4) },
      { id: "op-2", action: "release", eni: "eni-00000001", ips: ["10.1.0.4"] },
    ]);
    const paused = step({ ...s, backoff: { ...s.backoff, release: { failures: 1, until: 1_000 } } });
    releaseLeastAssigned(paused.s, 5, 0, paused.limits, paused.emit);
    expect(paused.decisions).toEqual([]);
  });

  test("rule 5c fillBoundEnis: fills the bound ENIs, fullest first; all full only at quota or with an empty subnet", () => {
    const eight = step(withPods(makeState({ enis: [eni(1, 8)] }), 8));
    expect(fillBoundEnis(eight.s, 5, 0, eight.limits, eight.emit)).toEqual({ need: 3, room: 0 });
    expect(eight.decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 2 }]);
    expect(eniRoom(eight.s, eight.s.enis[0] as EniState, 0, eight.limits)).toBe(0);
    const roomy = step(makeState({ enis: [eni(1, 4)] }));
    expect(fillBoundEnis(roomy.s, 5, 0, roomy.limits, roomy.emit)).toEqual({ need: 0, room: 1 });
    // Capped at ipsPerCall: the ENI takes more next round, so it is not full, and its room is kept for it.
    const capped = step(makeState({ quota: { ipsPerCall: 2 }, enis: [eni(1, 0)] }));
    expect(fillBoundEnis(capped.s, 5, 0, capped.limits, capped.emit)).toEqual({ need: 3, room: 8 });
    // Busy with another operation but with room: not full, nothing bound now.
    const busy = step(makeState({ enis: [eni(1, 4)] }));
    busy.emit({ id: "op-9", action: "release", eni: "eni-00000001", ips: ["10.1.0.4"] });
    expect(fillBoundEnis(busy.s, 5, 0, busy.limits, busy.emit)).toEqual({ need: 5, room: 6 });
    // The subnet has no free IP, or the cloud said ip-quota: full.
    const dry = step(makeState({ subnets: { [SUBNET_A]: 0 }, enis: [eni(1, 4)] }));
    expect(fillBoundEnis(dry.s, 5, 0, dry.limits, dry.emit)).toEqual({ need: 5, room: 0 });
    const quota = step(makeState({ enis: [eni(1, 4)] }));
    (quota.s.enis[0] as { full: boolean }).full = true;
    expect(fillBoundEnis(quota.s, 5, 0, quota.limits, quota.emit)).toEqual({ need: 5, room: 0 });
  });

  test("rule 5c fillBoundEnis: a busy ENI with room is judged before a later bind takes its subnet's last IPs", () => {
    let s = makeState({
      settings: { subnets: [SUBNET_A, SUBNET_B] },
      subnets: { [SUBNET_A]: 3, [SUBNET_B]: 50 },
      enis: [eni(1, 2), eni(2, 2)],
    });
    s = withPods(s, 2); // both on eni-1, which comes first
    const t = step(s);
    t.emit({ id: "op-9", action: "bind", eni: "eni-00000001", count: 1 }); // eni-1 busy; subnet A has 2 left
    expect(fillBoundEnis(t.s, 6, 0, t.limits, t.emit)).toEqual({ need: 4, room: 2 });
    expect(t.decisions.slice(1)).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000002", count: 2 }]);
  });

  test("rule 5d deleteEmptyEnis: an ENI with no IP goes, unless IPs are needed and it could take them", () => {
    const idle = step(makeState({ enis: [eni(1, 5), eni(2, 0)] }));
    deleteEmptyEnis(idle.s, false, 0, idle.emit);
    expect(idle.decisions).toEqual([{ id: "op-1", action: "delete-eni", eni: "eni-00000002" }]);
    expect(idle.s.enis[1]?.deleting).toBe(true);
    const needy = step(makeState({ enis: [eni(1, 5), eni(2, 0)] }));
    deleteEmptyEnis(needy.s, true, 0, needy.emit);
    expect(needy.decisions).toEqual([]);
    const dry = step(makeState({ subnets: { [SUBNET_A]: 0 }, enis: [eni(1, 5), eni(2, 0)] }));
    deleteEmptyEnis(dry.s, true, 0, dry.emit); // needed, but its subnet has no IP to give it
    expect(dry.decisions.map((d) => d.action)).toEqual(["delete-eni"]);
  });

  test("rule 5e deleteDetachedAgain: an ENI marked deleting with no operation in flight is deleted again", () => {
    const s = makeState({ enis: [eni(1, 5), eni(2, 0)] });
    s.enis[1]!.deleting = true; // its delete failed after the detach worked
    const t = step(s);
    deleteDetachedAgain(t.s, 0, t.emit);
    expect(t.decisions).toEqual([{ id: "op-1", action: "delete-eni", eni: "eni-00000002" }]);
    deleteDetachedAgain(t.s, 0, t.emit); // now in flight: not twice
    expect(t.decisions).toHaveLength(1);
  });

  test("rule 6 subnetForNewEni: the listed subnet with the most available IPs; ties: the policy's order", () => {
    const two = (a: number, b: number) =>
      makeState({ settings: { subnets: [SUBNET_A, SUBNET_B] }, subnets: { [SUBNET_A]: a, [SUBNET_B]: b } });
    expect(subnetForNewEni(two(40, 90), 0)).toEqual({ id: SUBNET_B, room: 90 });
    expect(subnetForNewEni(two(90, 90), 0)).toEqual({ id: SUBNET_A, room: 90 });
    expect(subnetForNewEni(two(0, 0), 0)).toBeUndefined();
    const paused = two(40, 90);
    (paused.subnets[1] as { pausedUntil: number }).pausedUntil = 1_000;
    expect(subnetForNewEni(paused, 0)?.id).toBe(SUBNET_A);
    expect(subnetForNewEni(paused, 1_000)?.id).toBe(SUBNET_B);
    const t = step(two(40, 90));
    t.emit({ id: "op-9", action: "create-eni", subnet: SUBNET_B, ips: 60 }); // speaks for 60 of B's 90
    expect(subnetForNewEni(t.s, 0)).toEqual({ id: SUBNET_A, room: 40 });
  });
});
