// In-flight operations, typed cloud errors, the primary ENI, waiting pods and the persisted state.
import { describe, expect, test } from "bun:test";
import { allocate, release } from "./allocate.ts";
import { applyResult, AUTH_PAUSE_MS, ENI_QUOTA_PAUSE_MS, SUBNET_PAUSE_MS } from "./apply-result.ts";
import { nextWakeAt } from "./next-wake.ts";
import { plan } from "./plan.ts";
import { podKey, syncInventory } from "./state.ts";
import { FakeCloud, fixedRng, ips, makeState, SUBNET_A, SUBNET_B } from "./pool-kit.ts";
import { POOL_STATE_VERSION, type PoolState } from "./types.ts";

const oneEni = (n: number) => [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, n) }];

describe("in-flight operations", () => {
  test("no duplicate request while an operation is in flight", () => {
    const first = plan(makeState({ enis: oneEni(0) }), 0);
    expect(first.decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 5 }]);
    expect(plan(first.state, 1_000).decisions).toEqual([]);
    const done = applyResult(first.state, "op-1", { ok: true, ips: ips(1, 5) }, 2_000);
    expect(plan(done, 2_000).decisions).toEqual([]);
  });

  test("one Assign call carries at most ipsPerCall IPs; the rest follows after it returns", () => {
    const s = makeState({
      settings: { minPrebind: 25, maxPrebind: 25 },
      quota: { ipsPerEni: 30, ipsPerCall: 10 },
      enis: oneEni(0),
    });
    const first = plan(s, 0);
    expect(first.decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 10 }]);
    const next = plan(new FakeCloud().settle(first.state, 1), 1);
    expect(next.decisions).toEqual([{ id: "op-2", action: "bind", eni: "eni-00000001", count: 10 }]);
  });

  test("a burst bigger than one ENI creates several ENIs at once, each asking for all the IPs it is to hold", () => {
    const s = makeState({
      settings: { minPrebind: 45, maxPrebind: 45 },
      quota: { enis: 6, ipsPerEni: 20, ipsPerCall: 10 },
    });
    const first = plan(s, 0);
    // Past the Create call's cap of 10: the cloud adapter assigns the rest before the attach.
    expect(first.decisions).toEqual([
      { id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 20 },
      { id: "op-2", action: "create-eni", subnet: SUBNET_A, ips: 20 },
      { id: "op-3", action: "create-eni", subnet: SUBNET_A, ips: 5 },
    ]);
    expect(plan(first.state, 1).decisions).toEqual([]); // the three will hold 45
    const attached = new FakeCloud().settle(first.state, 2);
    expect(plan(attached, 2).decisions).toEqual([]); // nothing to bind after the attach
  });

  test("a burst beyond what the bound ENI can take decides the new ENIs in the same plan as its bind", () => {
    const s = makeState({
      settings: { minPrebind: 50, maxPrebind: 50 },
      quota: { enis: 6, ipsPerEni: 20, ipsPerCall: 10 },
      enis: oneEni(5),
    });
    // 45 wanted: 10 on the bound ENI now (one call's cap), 5 more kept for its next bind; the
    // other 30 need new ENIs, decided now rather than after the bound ENI's two binds.
    expect(plan(s, 0).decisions).toEqual([
      { id: "op-1", action: "bind", eni: "eni-00000001", count: 10 },
      { id: "op-2", action: "create-eni", subnet: SUBNET_A, ips: 20 },
      { id: "op-3", action: "create-eni", subnet: SUBNET_A, ips: 10 },
    ]);
    // 12 wanted: the bound ENI holds them all (10 now, 2 next), no new ENI
    const small = makeState({
      settings: { minPrebind: 17, maxPrebind: 17 },
      quota: { enis: 6, ipsPerEni: 20, ipsPerCall: 10 },
      enis: oneEni(5),
    });
    expect(plan(small, 0).decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 10 }]);
  });

  test("an ENI being created that asked for fewer IPs than it holds counts with its whole room", () => {
    const s = makeState({ settings: { minPrebind: 5, maxPrebind: 5 }, quota: { enis: 6, ipsPerEni: 20 } });
    const first = plan(s, 0);
    expect(first.decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 5 }]);
    // 15 more wanted while it is on its way: its 15 free places take them, no second ENI
    const more = plan({ ...first.state, settings: { ...first.state.settings, minPrebind: 20, maxPrebind: 20 } }, 1);
    expect(more.decisions).toEqual([]);
  });

  test("a pod that found no idle IP counts as demand until it gets one or is deleted", () => {
    let s = makeState({ enis: oneEni(0) });
    const r = allocate(s, "net/a/eth0", 0, fixedRng(0));
    expect(r.ok).toBe(false);
    expect(plan(r.state, 0).decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 6 }]);
    s = release(r.state, "net/a/eth0", 1).state;
    expect(s.waiting).toEqual({});
  });

  test("a pod that finds only cooling IPs makes the pool grow at once instead of waiting out the cooldown", () => {
    let s = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: oneEni(1) });
    s = release(allocate(s, "net/a/eth0", 0, fixedRng(0)).state, "net/a/eth0", 1_000).state;
    const r = allocate(s, "net/b/eth0", 2_000, fixedRng(0));
    expect(r).toMatchObject({ ok: false, error: { code: "no-idle-ip" } });
    expect((r as { error: { message: string } }).error.message).toContain("1 idle (1 cooling down)");
    expect(plan(r.state, 2_000).decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 1 }]);
  });

  test("nextWakeAt names when plan() has work of its own: the release timer, a back-off's end, a cooling IP a waiting pod needs", () => {
    let s = makeState({ enis: oneEni(9) });
    s = plan(s, 0).state; // surplus 4: timer armed for 120 s
    expect(nextWakeAt(s, 0)).toBe(120_000);
    let w = makeState({ settings: { minPrebind: 0, maxPrebind: 1 }, enis: oneEni(1) });
    w = release(allocate(w, "net/a/eth0", 0, fixedRng(0)).state, "net/a/eth0", 1_000).state;
    w = allocate(w, "net/b/eth0", 2_000, fixedRng(0)).state; // waits; the IP cools until 31 s
    expect(nextWakeAt(w, 2_000)).toBe(31_000);
    expect(nextWakeAt(makeState({ enis: oneEni(5) }), 0)).toBeNull();
  });

  test("the primary ENI is never used for pods nor counted", () => {
    const s = makeState({ enis: [{ id: "eni-00000000", subnet: SUBNET_A, primary: true, ips: ips(0, 6) }] });
    expect(allocate(s, "net/a/eth0", 0, fixedRng(0)).ok).toBe(false);
    expect(plan(s, 0).decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 5 }]);
  });

  test("pods are keyed by (network, containerID, ifname), and ADD is idempotent", () => {
    const key = podKey({ network: "vpccni", containerId: "abc123", ifname: "eth0" });
    expect(key).toBe("vpccni/abc123/eth0");
    const s = makeState({ enis: oneEni(5) });
    const a = allocate(s, key, 0, fixedRng(0));
    const b = allocate(a.state, key, 0, fixedRng(0.9));
    expect(b).toMatchObject({ ok: true, ip: (a as { ip: string }).ip });
    const other = allocate(
      a.state,
      podKey({ network: "vpccni", containerId: "abc123", ifname: "eth1" }),
      0,
      fixedRng(0),
    );
    expect(other.ok && other.ip).not.toBe((a as { ip: string }).ip);
  });
});

describe("typed cloud errors", () => {
  const failing = (
    s: PoolState,
    id: string,
    kind: Parameters<typeof applyResult>[2] extends infer R
      ? R extends { ok: false; error: { kind: infer K } }
        ? K
        : never
      : never,
    now = 0,
  ) => applyResult(s, id, { ok: false, error: { kind } }, now);

  test("eni-quota pauses ENI creation for 10 minutes", () => {
    const p = plan(makeState(), 0);
    const s = failing(p.state, "op-1", "eni-quota");
    expect(plan(s, ENI_QUOTA_PAUSE_MS - 1).decisions).toEqual([]);
    expect(nextWakeAt(s, 0)).toBe(ENI_QUOTA_PAUSE_MS);
    expect(plan(s, ENI_QUOTA_PAUSE_MS).decisions.map((d) => d.action)).toEqual(["create-eni"]);
  });

  test("ip-quota marks the ENI full, so the next plan binds a new ENI", () => {
    const p = plan(makeState({ enis: oneEni(2) }), 0);
    const s = failing(p.state, "op-1", "ip-quota");
    expect(plan(s, 1).decisions).toEqual([{ id: "op-2", action: "create-eni", subnet: SUBNET_A, ips: 3 }]);
  });

  test("subnet-exhausted pauses that subnet; the ENI goes into the next one", () => {
    const s0 = makeState({ settings: { subnets: [SUBNET_A, SUBNET_B] }, subnets: { [SUBNET_A]: 100, [SUBNET_B]: 50 } });
    const p = plan(s0, 0);
    expect(p.decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 5 }]);
    const s = failing(p.state, "op-1", "subnet-exhausted");
    expect(plan(s, 1).decisions).toEqual([{ id: "op-2", action: "create-eni", subnet: SUBNET_B, ips: 5 }]);
    expect(s.subnets[0]).toEqual({ id: SUBNET_A, available: 0, pausedUntil: SUBNET_PAUSE_MS });
  });

  test("throttled backs off exponentially per action, and success resets it", () => {
    let s = plan(makeState({ enis: oneEni(0) }), 0).state;
    s = failing(s, "op-1", "throttled", 0);
    expect(s.backoff.bind).toEqual({ failures: 1, until: 1_000 });
    expect(plan(s, 999).decisions).toEqual([]);
    s = failing(plan(s, 1_000).state, "op-2", "throttled", 1_000);
    expect(s.backoff.bind).toEqual({ failures: 2, until: 3_000 });
    s = applyResult(plan(s, 3_000).state, "op-3", { ok: true, ips: ips(1, 5) }, 3_500);
    expect(s.backoff.bind).toEqual({ failures: 0, until: 0 });
  });

  test("transient errors back off with jitter from the injected rng", () => {
    const s = plan(makeState({ enis: oneEni(0) }), 0).state;
    const t = applyResult(s, "op-1", { ok: false, error: { kind: "transient" } }, 0, { rng: fixedRng(0) });
    expect(t.backoff.bind.until).toBe(500);
  });

  test("not-found on a release drops the IPs; on a delete drops the ENI", () => {
    const s0 = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: oneEni(3) });
    const due = plan(plan(s0, 0).state, 120_000);
    let s = failing(due.state, "op-1", "not-found");
    expect(s.enis[0]?.ips).toEqual([]);
    const del = plan(s, 120_001);
    expect(del.decisions).toEqual([{ id: "op-2", action: "delete-eni", eni: "eni-00000001" }]);
    s = failing(del.state, "op-2", "not-found");
    expect(s.enis).toEqual([]);
  });

  test("a delete that fails after its detach: the ENI stays marked, is never used, survives a sync and is deleted again", () => {
    const s0 = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: oneEni(3) });
    const due = plan(plan(s0, 0).state, 120_000);
    let s = applyResult(due.state, "op-1", { ok: true }, 120_000); // the release
    const del = plan(s, 120_001);
    expect(del.decisions).toEqual([{ id: "op-2", action: "delete-eni", eni: "eni-00000001" }]);
    s = applyResult(del.state, "op-2", { ok: false, error: { kind: "transient" }, detached: true }, 120_002);
    expect(s.enis.map((e) => [e.id, e.deleting])).toEqual([["eni-00000001", true]]);
    // a restart or a resync: the cloud lists it attached nowhere, so not in the inventory
    s = syncInventory(s, [{ id: "eni-00000000", subnet: SUBNET_A, primary: true, ips: [] }]).state;
    expect(s.enis.find((e) => e.id === "eni-00000001")?.deleting).toBe(true);
    // a pod gets nothing from it, and the pool does not grow onto it
    expect(allocate(s, "net/a/eth0", 130_000, fixedRng(0)).ok).toBe(false);
    const again = plan(s, 10 * 60_000);
    expect(again.decisions.filter((d) => d.action === "delete-eni")).toEqual([
      { id: "op-3", action: "delete-eni", eni: "eni-00000001" },
    ]);
    expect(again.decisions.some((d) => "eni" in d && d.eni === "eni-00000001" && d.action !== "delete-eni")).toBe(
      false,
    );
    s = applyResult(again.state, "op-3", { ok: true }, 10 * 60_000);
    expect(s.enis.some((e) => e.id === "eni-00000001")).toBe(false);
  });

  test("a delete that fails with the ENI still attached leaves it usable, as before", () => {
    const s0 = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: oneEni(3) });
    const due = plan(plan(s0, 0).state, 120_000);
    const del = plan(applyResult(due.state, "op-1", { ok: true }, 120_000), 120_001);
    const s = applyResult(del.state, "op-2", { ok: false, error: { kind: "transient" } }, 120_002);
    expect(s.enis[0]?.deleting).toBe(false);
  });

  test("a failed release gives the IPs back to the pool", () => {
    const s0 = makeState({ settings: { minPrebind: 0, maxPrebind: 0 }, enis: oneEni(3) });
    const s = failing(plan(plan(s0, 0).state, 120_000).state, "op-1", "transient");
    expect(s.enis[0]?.ips.every((slot) => !slot.releasing)).toBe(true);
    expect(allocate(s, "net/a/eth0", 120_000, fixedRng(0)).ok).toBe(true);
  });

  test("auth pauses every mutation for 5 minutes", () => {
    const s = failing(plan(makeState(), 0).state, "op-1", "auth");
    expect(plan(s, AUTH_PAUSE_MS - 1).decisions).toEqual([]);
    expect(plan(s, AUTH_PAUSE_MS).decisions).toHaveLength(1);
  });

  test("a result for an unknown operation is refused, naming it", () => {
    expect(() => applyResult(makeState(), "op-9", { ok: true }, 0)).toThrow(
      'operation "op-9" is not in flight; in flight: none',
    );
  });

  test("a bind result must list the addresses, none of them bound to another ENI", () => {
    const s = plan(
      makeState({ enis: [...oneEni(1), { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 1) }] }),
      0,
    ).state;
    expect(() => applyResult(s, "op-1", { ok: true }, 0)).toThrow(
      "result.ips (undefined) must list the bound IP addresses",
    );
    expect(() => applyResult(s, "op-1", { ok: true, ips: ["10.2.0.1"] }, 0)).toThrow(
      "result.ips has 10.2.0.1, which is bound to eni-00000002, not eni-00000001",
    );
  });

  test("a result that an inventory sync saw first is merged, not refused", () => {
    const p = plan(makeState({ enis: oneEni(1) }), 0).state; // op-1: bind 5 on eni-1
    const synced = syncInventory(p, [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 3) }]).state;
    const s = applyResult(synced, "op-1", { ok: true, ips: ips(1, 5, 2) }, 1);
    expect(s.enis[0]?.ips.map((x) => x.ip)).toEqual(ips(1, 6));
    const gone = syncInventory(p, []).state; // the ENI vanished before the bind reported
    expect(applyResult(gone, "op-1", { ok: true, ips: ips(1, 5, 2) }, 1).enis).toEqual([]);
    const created = plan(makeState(), 0).state; // op-1: create-eni
    const seen = syncInventory(created, [
      { id: "eni-0000000a", subnet: SUBNET_A, primary: false, ips: ips(10, 2) },
    ]).state;
    const merged = applyResult(seen, "op-1", { ok: true, eni: "eni-0000000a", ips: ips(10, 5) }, 1);
    expect(merged.enis.map((e) => [e.id, e.ips.length])).toEqual([["eni-0000000a", 5]]);
  });
});

describe("persisted state", () => {
  test("is versioned plain data that survives a JSON round trip", () => {
    let s = plan(makeState({ enis: oneEni(3) }), 0).state;
    s = allocate(s, "net/a/eth0", 0, fixedRng(0)).state;
    expect(s.version).toBe(POOL_STATE_VERSION);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  test("syncInventory keeps assignments of IPs that still exist and reports pods whose IP vanished", () => {
    let s = makeState({ enis: oneEni(3) });
    s = allocate(s, "net/a/eth0", 0, fixedRng(0)).state;
    s = allocate(s, "net/b/eth0", 0, fixedRng(0)).state;
    const ipA = s.pods["net/a/eth0"]?.ip as string;
    const { state, lostPods } = syncInventory(s, [
      { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: [ipA] },
    ]);
    expect(lostPods).toEqual(["net/b/eth0"]);
    expect(state.pods["net/a/eth0"]?.ip).toBe(ipA);
  });
});
