// Edges of the engine's rules that no other suite pinned (found by bench/mutation.ts): the exact
// moment a waiting pod is forgotten, what counts against a subnet's room when rule 6 picks one,
// which ENI a pod's IP comes from, times re-anchored after the clock jumped back, the drain.
import { describe, expect, test } from "bun:test";
import { allocate, expireWaiting, idleCount, mostAssignedEni, release, WAITING_TTL_MS } from "./allocate.ts";
import { reanchorTimes } from "./clock.ts";
import { drained, drainPool } from "./drain.ts";
import { decisionSink, plan, subnetForNewEni } from "./plan.ts";
import { cloneState } from "./state.ts";
import { seededRng } from "./rng.ts";
import { summary } from "./summary.ts";
import { assignTo, fixedRng, ips, makeState, SUBNET_A, SUBNET_B } from "./pool-kit.ts";
import type { EniInventory, PoolState } from "./types.ts";

const SUBNET_C = "subnet-cccccccc";

const eni = (n: number, count: number, subnet = SUBNET_A): EniInventory => ({
  id: `eni-0000000${n}`,
  subnet,
  primary: false,
  ips: ips(n, count),
});

/** Pods placed by allocate() at time 0. */
function withIps(state: PoolState, ...keys: string[]): PoolState {
  let s = state;
  for (const key of keys) s = allocate(s, key, 0, fixedRng(0)).state;
  return s;
}

/** A working copy of the state and a sink that records decisions as in flight, as plan() does. */
function inFlight(state: PoolState) {
  const s = cloneState(state);
  return { s, ...decisionSink(s, 0) };
}

describe("a waiting pod", () => {
  test("stops counting as demand exactly WAITING_TTL_MS after its failed ADD", () => {
    const none = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: [eni(1, 0)] });
    const r = allocate(none, "net/a/eth0", 0, fixedRng(0));
    expect(r.ok).toBe(false);
    const before = plan(r.state, WAITING_TTL_MS - 1);
    expect(before.state.waiting).toEqual({ "net/a/eth0": 0 });
    expect(before.decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 1 }]);
    const at = plan(r.state, WAITING_TTL_MS);
    expect(at.state.waiting).toEqual({});
    // nothing left to bind for: the empty ENI goes (rule 5d)
    expect(at.decisions).toEqual([{ id: "op-1", action: "delete-eni", eni: "eni-00000001" }]);
  });

  test("counts from its first failed ADD: a retried ADD does not restart the time; expiry is now - since", () => {
    const none = makeState({ enis: [eni(1, 0)] });
    const first = allocate(none, "net/a/eth0", 5_000, fixedRng(0)).state;
    const again = allocate(first, "net/a/eth0", 9_000, fixedRng(0));
    expect(again.state.waiting).toEqual({ "net/a/eth0": 5_000 });
    const s = cloneState(again.state);
    expireWaiting(s, 5_000 + WAITING_TTL_MS - 1);
    expect(s.waiting).toEqual({ "net/a/eth0": 5_000 });
    expireWaiting(s, 5_000 + WAITING_TTL_MS);
    expect(s.waiting).toEqual({});
  });

  test("its DEL forgets it; a DEL of a pod the node never saw changes nothing at all", () => {
    const none = makeState({ enis: [eni(1, 0)] });
    const waiting = allocate(none, "net/a/eth0", 0, fixedRng(0)).state;
    const r = release(waiting, "net/a/eth0", 1);
    expect(r).toEqual({ state: { ...waiting, waiting: {} }, released: null });
    expect(release(waiting, "net/zz/eth0", 1).state).toBe(waiting);
  });
});

describe("rule 4: an IP for a pod, and back", () => {
  test("the message of a refused ADD counts the idle IPs, those cooling down, and the operations in flight", () => {
    let s = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: [eni(1, 3)] });
    s = withIps(s, "net/a/eth0", "net/b/eth0", "net/c/eth0");
    s = release(release(s, "net/a/eth0", 1_000).state, "net/b/eth0", 1_000).state;
    const r = allocate(s, "net/d/eth0", 2_000, fixedRng(0));
    expect(r).toMatchObject({
      ok: false,
      error: {
        code: "no-idle-ip",
        message:
          "no idle IP on this node for pod net/d/eth0: 2 idle (2 cooling down), 0 cloud operation(s) in flight; the pool grows on the next plan",
      },
    });
    const off = makeState({ settings: { draining: true }, enis: [eni(1, 3)] });
    expect(allocate(off, "net/e/eth0", 0, fixedRng(0))).toMatchObject({
      ok: false,
      error: { code: "switched-off", message: "the policy switches vpccni off on this node: no IP for pod net/e/eth0" },
    });
  });

  test("a DEL hands back the assignment and starts the IP's cooldown, unless the slot holds another pod now", () => {
    const s = withIps(makeState({ enis: [eni(1, 3)] }), "net/a/eth0");
    const a = s.pods["net/a/eth0"] ?? null;
    const r = release(s, "net/a/eth0", 1_000);
    expect(r.released).toEqual(a);
    expect(r.state.enis[0]?.ips.find((x) => x.ip === a?.ip)).toMatchObject({ pod: null, coolUntil: 31_000 });
    // the slot went to another pod meanwhile (a sync, a hand fix): it stays with that pod
    const stolen = cloneState(s);
    const slot = stolen.enis[0]?.ips.find((x) => x.ip === a?.ip) as { pod: string | null };
    slot.pod = "net/other/eth0";
    const kept = release(stolen, "net/a/eth0", 1_000);
    expect(kept.released).toEqual(a);
    expect(kept.state.enis[0]?.ips.find((x) => x.ip === a?.ip)).toMatchObject({ pod: "net/other/eth0", coolUntil: 0 });
    expect(kept.state.pods["net/a/eth0"]).toBeUndefined();
  });

  test("rule 5a: the ENI with the most pods wins wherever it is listed; ties go to the lowest id", () => {
    let s = makeState({ enis: [eni(1, 4), eni(2, 4), eni(3, 4)] });
    s = assignTo(assignTo(s, "eni-00000001", "10.1.0.1", "net/x/eth0"), "eni-00000001", "10.1.0.2", "net/y/eth0");
    s = assignTo(s, "eni-00000002", "10.2.0.1", "net/z/eth0");
    expect(mostAssignedEni(s, 0)?.id).toBe("eni-00000001");
    s = assignTo(assignTo(s, "eni-00000003", "10.3.0.1", "net/u/eth0"), "eni-00000003", "10.3.0.2", "net/v/eth0");
    expect(mostAssignedEni(s, 0)?.id).toBe("eni-00000001"); // 2 and 2: the lower id
    s = assignTo(s, "eni-00000003", "10.3.0.3", "net/w/eth0");
    expect(mostAssignedEni(s, 0)?.id).toBe("eni-00000003");
  });

  test("idle IPs: not the primary ENI's, not those being released; ready when cooled and not on an ENI being deleted", () => {
    const s = cloneState(
      makeState({
        enis: [{ id: "eni-00000000", subnet: SUBNET_A, primary: true, ips: ips(9, 3) }, eni(1, 4), eni(2, 2)],
      }),
    );
    const [, one, two] = s.enis as [
      unknown,
      { ips: { releasing: boolean; coolUntil: number; pod: string | null }[] },
      { deleting: boolean },
    ];
    one.ips[0]!.releasing = true;
    one.ips[1]!.coolUntil = 500;
    one.ips[2]!.pod = "net/p/eth0";
    two.deleting = true;
    expect(idleCount(s, 499)).toEqual({ total: 4, ready: 1 });
    expect(idleCount(s, 500)).toEqual({ total: 4, ready: 2 });
    expect(summary(s, 500)).toEqual({
      pods: 0,
      waiting: 0,
      bound: 5, // 4 + 2 secondary IPs, one being released
      idle: 4,
      ready: 2,
      pendingBind: 0,
      enis: 2,
      inflight: 0,
      maxBindable: 30,
    });
  });
});

describe("the clock jumped back", () => {
  test("a cooling IP rests at most ipCooldown from now; a waiting pod counts from now at the latest", () => {
    const s = cloneState(makeState({ enis: [eni(1, 3)] })); // ipCooldown 30 s
    const slots = s.enis[0]?.ips as { coolUntil: number }[];
    [slots[0]!.coolUntil, slots[1]!.coolUntil, slots[2]!.coolUntil] = [90_000, 40_000, 39_999];
    s.waiting = { "net/a/eth0": 20_000, "net/b/eth0": 10_000, "net/c/eth0": 9_999 };
    reanchorTimes(s, 10_000);
    expect(slots.map((x) => x.coolUntil)).toEqual([40_000, 40_000, 39_999]);
    expect(s.waiting).toEqual({ "net/a/eth0": 10_000, "net/b/eth0": 10_000, "net/c/eth0": 9_999 });
  });
});

describe("the drain (switched off)", () => {
  test("skips ENIs being deleted or busy; an empty ENI is deleted unless deletes are paused", () => {
    const base = makeState({ settings: { draining: true }, enis: [eni(1, 0), eni(2, 3), eni(3, 2), eni(4, 0)] });
    const s = cloneState(base);
    s.release = { dueAt: 5, draining: true };
    s.waiting = { "net/w/eth0": 0 };
    (s.enis[3] as { deleting: boolean }).deleting = true; // eni 4: its delete is on its way
    const { decisions, emit } = decisionSink(s, 0);
    emit({ id: "op-0", action: "bind", eni: "eni-00000003", count: 1 }); // eni 3 is busy
    drainPool(s, 0, emit);
    expect(decisions.slice(1)).toEqual([
      { id: "op-1", action: "delete-eni", eni: "eni-00000001" },
      { id: "op-2", action: "release", eni: "eni-00000002", ips: ips(2, 3) },
    ]);
    expect(s.enis.map((e) => [e.id, e.deleting, e.ips.filter((x) => x.releasing).length])).toEqual([
      ["eni-00000001", true, 0],
      ["eni-00000002", false, 3],
      ["eni-00000003", false, 0],
      ["eni-00000004", true, 0],
    ]);
    expect([s.nextOpSeq, s.waiting, s.release]).toEqual([3, {}, { dueAt: null, draining: false }]);
    const paused = cloneState(base);
    paused.backoff["delete-eni"] = { failures: 1, until: 10 };
    const held = decisionSink(paused, 0);
    drainPool(paused, 0, held.emit);
    expect(held.decisions.map((d) => d.action)).toEqual(["release", "release"]);
  });

  test("drained: switched off, and no pod, no operation in flight and no secondary ENI left", () => {
    const off = makeState({ settings: { draining: true } });
    expect(drained(off)).toBe(true);
    expect(drained(makeState({ settings: { draining: true }, enis: [eni(1, 0)] }))).toBe(false);
    const pod = cloneState(off);
    pod.pods["net/a/eth0"] = { ip: "10.1.0.1", eni: "eni-00000001", since: 0 };
    expect(drained(pod)).toBe(false);
    const busy = cloneState(off);
    decisionSink(busy, 0).emit({ id: "op-1", action: "delete-eni", eni: "eni-00000001" });
    expect(drained(busy)).toBe(false);
  });
});

describe("rule 6: the subnet of a new ENI", () => {
  test("an in-flight bind speaks for IPs of its ENI's subnet, not of the others", () => {
    const t = inFlight(
      makeState({
        settings: { subnets: [SUBNET_A, SUBNET_B] },
        subnets: { [SUBNET_A]: 50, [SUBNET_B]: 40 },
        enis: [eni(1, 0, SUBNET_A), eni(2, 0, SUBNET_B)],
      }),
    );
    expect(subnetForNewEni(t.s, 0)).toEqual({ id: SUBNET_A, room: 50 });
    t.emit({ id: "op-9", action: "bind", eni: "eni-00000001", count: 20 }); // A: 30 left
    expect(subnetForNewEni(t.s, 0)).toEqual({ id: SUBNET_B, room: 40 });
    t.emit({ id: "op-10", action: "bind", eni: "eni-00000002", count: 15 }); // B: 25 left
    expect(subnetForNewEni(t.s, 0)).toEqual({ id: SUBNET_A, room: 30 });
    t.emit({ id: "op-11", action: "bind", eni: "eni-00000001", count: 30 }); // A: none left
    expect(subnetForNewEni(t.s, 0)).toEqual({ id: SUBNET_B, room: 25 });
    t.emit({ id: "op-12", action: "create-eni", subnet: SUBNET_B, ips: 25 });
    expect(subnetForNewEni(t.s, 0)).toBeUndefined();
  });

  test("a bind in flight on an ENI the cloud no longer lists speaks for no subnet", () => {
    const t = inFlight(makeState({ subnets: { [SUBNET_A]: 50 }, enis: [eni(1, 0)] }));
    t.emit({ id: "op-9", action: "bind", eni: "eni-00000001", count: 20 });
    t.s.enis = []; // syncInventory found it gone
    expect(subnetForNewEni(t.s, 0)).toEqual({ id: SUBNET_A, room: 50 });
  });

  test("a tie keeps the first listed subnet, whatever comes after it", () => {
    const three = makeState({
      settings: { subnets: [SUBNET_B, SUBNET_A, SUBNET_C] },
      subnets: { [SUBNET_B]: 70, [SUBNET_A]: 70, [SUBNET_C]: 60 },
    });
    expect(subnetForNewEni(three, 0)).toEqual({ id: SUBNET_B, room: 70 });
  });
});

describe("seededRng", () => {
  test("is mulberry32: its published first values for seed 1, in [0, 1); seeds are taken modulo 2^32", () => {
    const r = seededRng(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    const a = seededRng(2 ** 32 + 5);
    const b = seededRng(5);
    expect([a(), a()]).toEqual([b(), b()]);
  });
});
