// A new ENI's top-up once attached (top-up.ts): the need pods made while it was being made,
// after what the bound ENIs can take, within its quota and its subnet, pledged before the call.
import { describe, expect, test } from "bun:test";
import { allocate } from "./allocate.ts";
import { applyResult } from "./apply-result.ts";
import { plan } from "./plan.ts";
import { FakeCloud, fixedRng, ips, makeState, SUBNET_A, withPods } from "./pool-kit.ts";
import { busyEnis, pledgedCount, syncInventory } from "./state.ts";
import { applyProgress, topUpNewEni } from "./top-up.ts";
import type { PoolState } from "./types.ts";

const QUOTA = { enis: 6, ipsPerEni: 20, ipsPerCall: 10 };

/** `n` pods ask for IPs on a state whose pool cannot serve them: they wait. */
function waiting(state: PoolState, n: number, from = 0): PoolState {
  let s = state;
  for (let i = from; i < from + n; i++) {
    const r = allocate(s, `net/w${i}/eth0`, 0, fixedRng(0));
    if (r.ok) throw new Error("expected no idle IP");
    s = r.state;
  }
  return s;
}

/** A fresh node: its first plan creates one ENI for prebind.min (5). */
function creating(): { state: PoolState; op: string } {
  const first = plan(makeState({ quota: QUOTA }), 0);
  expect(first.decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 5 }]);
  return { state: first.state, op: "op-1" };
}

describe("a new ENI's top-up once attached", () => {
  test("takes the IPs pods asked for while it was made, and pledges them so that no plan binds them again", () => {
    const { state, op } = creating();
    // 12 pods came meanwhile: 12 + 5 wanted, 5 on their way; its room (15) took them, no new ENI
    const s = waiting(state, 12);
    expect(plan(s, 1).decisions).toEqual([]);
    const { state: after, extra } = topUpNewEni(s, op, 2);
    expect(extra).toBe(12);
    expect(after.inflight[0]?.decision).toEqual({ id: op, action: "create-eni", subnet: SUBNET_A, ips: 17 });
    expect(pledgedCount(after)).toBe(17);
    expect(plan(after, 3).decisions).toEqual([]);
    expect(s.inflight[0]?.decision).toMatchObject({ ips: 5 }); // the input state is not changed
    // Asked again (a replay, or a second call) it finds nothing more to take.
    expect(topUpNewEni(after, op, 4).extra).toBe(0);
  });

  test("never past the ENI's IP quota nor its subnet's free IPs", () => {
    const { state, op } = creating();
    const crowd = waiting(state, 40); // 45 wanted: its room (15) and, in the plan, two more ENIs
    expect(topUpNewEni(crowd, op, 1).extra).toBe(15);
    const small = plan(makeState({ quota: QUOTA, subnets: { [SUBNET_A]: 8 } }), 0);
    expect(small.decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 5 }]);
    expect(topUpNewEni(waiting(small.state, 12), "op-1", 1).extra).toBe(3); // 8 free, 5 spoken for
  });

  test("leaves to a bound ENI what it can still take (rule 5c)", () => {
    const base = makeState({
      quota: QUOTA,
      enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 12) }],
    });
    // 12 pods hold the 12 bound IPs, 13 more wait: 30 wanted. The bound ENI's 8 free places
    // come first (a bind), a new ENI takes the other 10.
    const busy = plan(waiting(withPods(base, 12), 13), 0);
    expect(busy.decisions).toEqual([
      { id: "op-1", action: "bind", eni: "eni-00000001", count: 8 },
      { id: "op-2", action: "create-eni", subnet: SUBNET_A, ips: 10 },
    ]);
    expect(topUpNewEni(busy.state, "op-2", 1).extra).toBe(0);
    // 4 more wait: the bound ENI is full once its bind lands, so they are the new ENI's
    expect(topUpNewEni(waiting(busy.state, 4, 13), "op-2", 1).extra).toBe(4);
  });

  test("takes nothing when there is no need, binds are paused, the pool is switched off, or the op is not a create", () => {
    const { state, op } = creating();
    expect(topUpNewEni(state, op, 1)).toEqual({ state, extra: 0 });
    const s = waiting(state, 6);
    const paused = { ...s, backoff: { ...s.backoff, bind: { failures: 1, until: 10_000 } } };
    expect(topUpNewEni(paused, op, 1).extra).toBe(0);
    const off = { ...s, settings: { ...s.settings, draining: true } };
    expect(topUpNewEni(off, op, 1).extra).toBe(0);
    expect(topUpNewEni(s, "op-404", 1).extra).toBe(0);
    const bound = plan(makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: [] }] }), 0);
    expect(bound.decisions[0]?.action).toBe("bind");
    expect(topUpNewEni(bound.state, "op-1", 1).extra).toBe(0);
  });

  test("what the cloud answered is applied as any create: the pledged IPs become bound IPs of the ENI", () => {
    const { state, op } = creating();
    const { state: after, extra } = topUpNewEni(waiting(state, 7), op, 1);
    expect(extra).toBe(7);
    const done = new FakeCloud().settle(after, 2);
    expect(done.enis.find((e) => !e.primary)?.ips).toHaveLength(12);
    expect(done.inflight).toEqual([]);
    expect(plan(done, 3).decisions).toEqual([]);
  });
});

describe("a new ENI's IPs in the pool while its operation goes on", () => {
  /** op-1 creates an ENI for 5 IPs; 20 pods wait; its top-up took 15 of them (20 pledged). */
  function toppedUp() {
    const { state, op } = creating();
    const { state: s, extra } = topUpNewEni(waiting(state, 20), op, 1);
    expect(extra).toBe(15);
    return { state: s, op };
  }
  const NEW = "eni-000000aa";
  const subnetFree = (s: PoolState) => s.subnets.find((n) => n.id === SUBNET_A)?.available;

  test("the IPs bound so far serve waiting pods at once; what is bound plus pledged stays the same", () => {
    const { state, op } = toppedUp();
    const free = subnetFree(state) ?? 0;
    const s = applyProgress(state, op, NEW, ips(100, 5));
    expect(s.enis.find((e) => e.id === NEW)?.ips).toHaveLength(5);
    expect(s.inflight[0]?.decision).toEqual({ id: op, action: "create-eni", subnet: SUBNET_A, ips: 15, eni: NEW });
    expect(pledgedCount(s)).toBe(pledgedCount(state));
    expect(subnetFree(s)).toBe(free - 5);
    expect(busyEnis(s).has(NEW)).toBe(true); // no other call on it while the top-up runs
    const served = allocate(s, "net/w0/eth0", 2, fixedRng(0));
    expect(served).toMatchObject({ ok: true, eni: NEW });
    // the plan counts its room once: no bind on it (busy), and no other ENI for the pods it
    // will take; the one it decides is for what no ENI of 20 holds (20 pods + prebind.min 5), as before
    expect(plan(s, 3).decisions).toEqual(plan(state, 3).decisions);
    expect(plan(s, 3).decisions).toEqual([{ id: "op-2", action: "create-eni", subnet: SUBNET_A, ips: 5 }]);
    expect(state.enis.some((e) => e.id === NEW)).toBe(false); // the input state is not changed
  });

  test("each top-up call's IPs come in as it ends; the operation's answer adds only what is new", () => {
    const { state, op } = toppedUp();
    const first = applyProgress(state, op, NEW, ips(100, 5));
    const second = applyProgress(first, op, NEW, ips(100, 10, 6));
    expect(second.enis.find((e) => e.id === NEW)?.ips).toHaveLength(15);
    expect(second.inflight[0]?.decision).toMatchObject({ ips: 5, eni: NEW });
    expect(applyProgress(second, op, NEW, ips(100, 10, 6))).toBe(second); // told twice: nothing new
    const done = applyResult(second, op, { ok: true, eni: NEW, ips: ips(100, 20) }, 4);
    expect(done.enis.find((e) => e.id === NEW)?.ips).toHaveLength(20);
    expect(done.inflight).toEqual([]);
    expect(subnetFree(done)).toBe((subnetFree(state) ?? 0) - 20);
    expect(pledgedCount(done)).toBe(pledgedCount(state));
  });

  test("after a restart the cloud's list of the ENI takes the place of what was still to come", () => {
    const { state, op } = toppedUp();
    const s = applyProgress(state, op, NEW, ips(100, 5));
    // the restart's sync lists 15 on it: the top-up's first call ended before the crash
    const inventory = s.enis.map((e) => ({
      id: e.id,
      subnet: e.subnet,
      primary: e.primary,
      ips: e.ips.map((x) => x.ip),
    }));
    const listed = inventory.map((e) => (e.id === NEW ? { ...e, ips: ips(100, 15) } : e));
    const synced = syncInventory(s, listed).state;
    expect(synced.enis.find((e) => e.id === NEW)?.ips).toHaveLength(15);
    expect(synced.inflight[0]?.decision).toMatchObject({ ips: 5, eni: NEW });
    expect(pledgedCount(synced)).toBe(pledgedCount(state));
  });

  test("an IP the pool has on another ENI, or another ENI than the operation's, is refused", () => {
    const base = makeState({
      quota: QUOTA,
      enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 20) }],
    });
    const grown = plan(waiting(withPods(base, 20), 5), 0);
    const create = grown.decisions.find((d) => d.action === "create-eni");
    expect(create).toBeDefined();
    const id = create?.id ?? "";
    expect(() => applyProgress(grown.state, id, NEW, ips(1, 1))).toThrow(/bound to eni-00000001/);
    const s = applyProgress(grown.state, id, NEW, ips(100, 2));
    expect(() => applyProgress(s, id, "eni-000000bb", ips(200, 2))).toThrow(/made eni-000000aa, not eni-000000bb/);
    expect(applyProgress(s, "op-404", NEW, ips(300, 1))).toBe(s);
  });
});
