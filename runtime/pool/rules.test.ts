// One named example per rule of spec/behaviour.md "Non-fixed IP mode".
import { describe, expect, test } from "bun:test";
import { allocate, release } from "./allocate.ts";
import { applyResult } from "./apply-result.ts";
import { plan } from "./plan.ts";
import { settingsFromPolicy } from "./settings.ts";
import { createState, setSettings } from "./state.ts";
import { extendedResource } from "./summary.ts";
import { assignTo, FakeCloud, fixedRng, ips, makeState, settings, SUBNET_A, SUBNET_B, withPods } from "./pool-kit.ts";
import type { PoolState } from "./types.ts";

describe("non-fixed IP mode rules", () => {
  test("rule 1: bound < pods + minPrebind binds at once up to pods + minPrebind", () => {
    let s = makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 4) }] });
    s = withPods(s, 3);
    const { decisions } = plan(s, 0);
    // pods 3 + min 5 = 8; 4 bound -> bind 4 more on the existing ENI, in one decision.
    expect(decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 4 }]);
  });

  test("rule 1: binding never goes past maxBindable", () => {
    const s = makeState({
      quota: { enis: 1, ipsPerEni: 6 },
      enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 4) }],
    });
    const full = withPods(s, 4);
    // pods 4 + min 5 = 9 > maxBindable 6: only 2 more.
    expect(plan(full, 0).decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000001", count: 2 }]);
  });

  test("rule 1: a pod served from an idle IP leaves bound one short; the next plan binds it, on the ENI with room", () => {
    // The e2e burst's end state: eni-1 at its quota (10), eni-2 with 4, prebind 3..6, 11 pods.
    let s = makeState({
      settings: { minPrebind: 3, maxPrebind: 6 },
      enis: [
        { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 10) },
        { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 4) },
      ],
    });
    s = withPods(s, 11);
    expect(plan(s, 0).decisions).toEqual([]); // bound 14 = pods 11 + min 3
    s = withPods(s, 1, 0, 11); // the 12th pod takes an idle IP at once: 14 < 12 + 3
    expect(plan(s, 0).decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000002", count: 1 }]);
  });

  test("rule 2: bound > pods + maxPrebind releases idle IPs on the release timer, down to pods + maxPrebind", () => {
    let s = makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 9) }] });
    s = withPods(s, 1);
    const first = plan(s, 0);
    expect(first.decisions).toEqual([]); // surplus 3 over pods 1 + max 5: the timer is armed, nothing yet
    expect(first.state.release.dueAt).toBe(120_000);
    expect(plan(first.state, 119_999).decisions).toEqual([]);
    const due = plan(first.state, 120_000);
    expect(due.decisions).toHaveLength(1);
    expect(due.decisions[0]).toMatchObject({ action: "release", eni: "eni-00000001" });
    expect((due.decisions[0] as { ips: string[] }).ips).toHaveLength(3);
    const after = new FakeCloud().settle(due.state, 120_500);
    expect(after.enis[0]?.ips).toHaveLength(6);
    expect(plan(after, 121_000).decisions).toEqual([]);
  });

  test("rule 2: a surplus that disappears before the tick is not released; one that is there at the tick is", () => {
    let s = makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 9) }] });
    s = withPods(s, 1);
    s = plan(s, 0).state; // the cadence: ticks at 120 s, 240 s...
    s = withPods(s, 3, 10_000, 1); // pods 4 + max 5 = 9 = bound: the surplus is gone
    s = plan(s, 10_000).state;
    expect(s.release.dueAt).toBe(120_000); // a dip does not move the tick
    s = release(s, "net/c1/eth0", 100_000).state; // surplus again, 20 s before the tick
    s = plan(s, 100_000).state;
    expect(plan(s, 119_999).decisions).toEqual([]);
    expect(plan(s, 120_000).decisions.map((d) => d.action)).toEqual(["release"]);
  });

  test("rule 2: under periodic churn (a pod living 1 s every 100 s) the surplus still goes at the next tick", () => {
    // the case: 4 pods, 9 bound, max 5; the old timer restarted at every dip
    let s = makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 10) }] });
    s = withPods(s, 4);
    let released = false;
    for (let t = 0; t <= 20 * 60_000 && !released; t += 1_000) {
      if (t % 100_000 === 50_000) s = withPods(s, 1, t, 4); // a short-lived pod: the surplus dips
      if (t % 100_000 === 51_000) s = release(s, "net/c4/eth0", t).state;
      const p = plan(s, t);
      released = p.decisions.some((d) => d.action === "release");
      s = p.state;
    }
    expect(released).toBe(true);
  });

  test("rule 3: maxBindable < bound releases surplus idle IPs at once", () => {
    let s = makeState({
      enis: [
        { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 10) },
        { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 6) },
      ],
    });
    s = withPods(s, 2); // both on eni-1
    expect(plan(s, 0).decisions).toEqual([]); // surplus over pods + max only arms the timer
    s = setSettings(s, settings({ maxEnisPerNode: 1 })); // maxBindable 1 x 10 = 10 < 16 bound
    expect(plan(s, 0).decisions).toEqual([{ id: "op-1", action: "release", eni: "eni-00000002", ips: ips(2, 6) }]);
  });

  test("rule 3: a lowered ipsPerEni releases the idle IPs above it at once", () => {
    let s = makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 10) }] });
    s = withPods(s, 2);
    s = setSettings(s, settings({ ipsPerEni: 7 }));
    const { decisions } = plan(s, 0);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ action: "release", eni: "eni-00000001" });
    expect((decisions[0] as { ips: string[] }).ips).toHaveLength(3);
  });

  test("rule 4: a new pod gets an idle IP at once; a released pod IP returns to the node pool, not the VPC", () => {
    let s = makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 5) }] });
    const r = allocate(s, "net/c1/eth0", 0, fixedRng(0));
    expect(r.ok).toBe(true);
    s = release(r.state, "net/c1/eth0", 1_000).state;
    expect(Object.keys(s.pods)).toEqual([]);
    expect(s.enis[0]?.ips).toHaveLength(5);
    expect(plan(s, 1_000).decisions).toEqual([]); // bound 5 = pods 0 + max 5: nothing goes back
  });

  test("rule 4 + ipCooldown: a freed IP is not reused for 30 s; 0s disables the cooldown", () => {
    const inv = [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 1) }];
    let s = makeState({ enis: inv });
    s = release(allocate(s, "net/a/eth0", 0, fixedRng(0)).state, "net/a/eth0", 1_000).state;
    expect(allocate(s, "net/b/eth0", 30_999, fixedRng(0)).ok).toBe(false);
    expect(allocate(s, "net/b/eth0", 31_000, fixedRng(0))).toMatchObject({ ok: true, ip: "10.1.0.1" });
    let z = makeState({ enis: inv, settings: { cooldownMs: 0 } });
    z = release(allocate(z, "net/a/eth0", 0, fixedRng(0)).state, "net/a/eth0", 1_000).state;
    expect(allocate(z, "net/b/eth0", 1_000, fixedRng(0))).toMatchObject({ ok: true, ip: "10.1.0.1" });
  });

  test("rule 5: assign prefers the ENI with the MOST assigned IPs, random among its idle IPs", () => {
    const two = [
      { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 5) },
      { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 5) },
    ];
    // eni-2 holds one pod, eni-1 none: every new pod goes to eni-2 while it has idle IPs.
    const s = assignTo(makeState({ enis: two }), "eni-00000002", "10.2.0.3", "net/z/eth0");
    expect(allocate(s, "net/p/eth0", 0, fixedRng(0))).toMatchObject({ ok: true, eni: "eni-00000002", ip: "10.2.0.1" });
    expect(allocate(s, "net/p/eth0", 0, fixedRng(0.5))).toMatchObject({
      ok: true,
      eni: "eni-00000002",
      ip: "10.2.0.4",
    });
    expect(allocate(s, "net/p/eth0", 0, fixedRng(0.99))).toMatchObject({
      ok: true,
      eni: "eni-00000002",
      ip: "10.2.0.5",
    });
    const seen = new Set<string>();
    let latest = s;
    for (let i = 0; i < 4; i++) {
      const r = allocate(latest, `net/q${i}/eth0`, 0, fixedRng(0.3));
      if (!r.ok) throw new Error(r.error.message);
      seen.add(r.eni);
      latest = r.state;
    }
    expect([...seen]).toEqual(["eni-00000002"]); // 4 idle on eni-2 are used before eni-1
    expect(allocate(latest, "net/last/eth0", 0, fixedRng(0))).toMatchObject({ ok: true, eni: "eni-00000001" });
  });

  test("rule 5: release prefers IPs on the ENI with the FEWEST assigned IPs", () => {
    let s = makeState({
      settings: { minPrebind: 0, maxPrebind: 0 },
      enis: [
        { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 4) },
        { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 4) },
      ],
    });
    s = withPods(s, 3); // all on eni-1 (the most assigned after the first)
    const due = plan(plan(s, 0).state, 120_000);
    expect(due.decisions.map((d) => d.action === "release" && [d.eni, d.ips.length])).toEqual([
      ["eni-00000002", 4],
      ["eni-00000001", 1],
    ]);
  });

  test("rule 5: a new ENI is bound only when every ENI is at its IP quota", () => {
    const s = makeState({
      quota: { ipsPerEni: 10 },
      enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 8) }],
    });
    const eight = withPods(s, 8);
    // pods 8 + min 5 = 13: 2 fill eni-1 to its quota, only then a new ENI for the other 3.
    expect(plan(eight, 0).decisions).toEqual([
      { id: "op-1", action: "bind", eni: "eni-00000001", count: 2 },
      { id: "op-2", action: "create-eni", subnet: SUBNET_A, ips: 3 },
    ]);
    const four = withPods(s, 4); // pods 4 + min 5 = 9: eni-1 still has room, no new ENI
    expect(plan(four, 0).decisions.map((d) => d.action)).toEqual(["bind"]);
  });

  test("rule 5: a new ENI is bound when the existing ENI's subnet has no free IP", () => {
    const s = makeState({
      settings: { subnets: [SUBNET_A, SUBNET_B] },
      subnets: { [SUBNET_A]: 0, [SUBNET_B]: 50 },
      enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 2) }],
    });
    expect(plan(withPods(s, 2), 0).decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_B, ips: 5 }]);
  });

  test("rule 5: an ENI with no secondary IP is deleted when no IP is needed, kept when one is", () => {
    const inv = [
      { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 5) },
      { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: [] },
    ];
    expect(plan(makeState({ enis: inv }), 0).decisions).toEqual([
      { id: "op-1", action: "delete-eni", eni: "eni-00000002" },
    ]);
    const needy = withPods(makeState({ quota: { ipsPerEni: 5 }, enis: inv }), 1);
    expect(plan(needy, 0).decisions).toEqual([{ id: "op-1", action: "bind", eni: "eni-00000002", count: 1 }]);
  });

  test("rule 5: on the release timer, a podless ENI whose IPs fit on the other ENIs is emptied, then deleted", () => {
    // What a vanished burst leaves: eni-1 has room for 4, eni-2 holds 2 idle IPs and no pod.
    let s = makeState({
      settings: { minPrebind: 2, maxPrebind: 2 },
      quota: { ipsPerEni: 6 },
      enis: [
        { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 2) },
        { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 2) },
      ],
    });
    s = withPods(s, 2); // both on eni-1: bound 4 = pods 2 + 2, nothing to release
    const armed = plan(s, 0);
    expect(armed.decisions).toEqual([]);
    const due = plan(armed.state, 120_000);
    expect(due.decisions).toEqual([{ id: "op-1", action: "release", eni: "eni-00000002", ips: ips(2, 2) }]);
    const cloud = new FakeCloud();
    const next = plan(cloud.settle(due.state, 120_500), 120_500);
    expect(next.decisions).toEqual([
      { id: "op-2", action: "bind", eni: "eni-00000001", count: 2 },
      { id: "op-3", action: "delete-eni", eni: "eni-00000002" },
    ]);
    // With no room on the pod ENI, the podless ENI stays: it holds the prebind IPs.
    const full = withPods(
      makeState({
        settings: { minPrebind: 2, maxPrebind: 2 },
        quota: { ipsPerEni: 2 },
        enis: [
          { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 2) },
          { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 2) },
        ],
      }),
      2,
    );
    expect(plan(plan(full, 0).state, 120_000).decisions).toEqual([]);
  });

  test("rule 6: a new ENI goes into the listed subnet with the most available IPs", () => {
    const s = makeState({ settings: { subnets: [SUBNET_A, SUBNET_B] }, subnets: { [SUBNET_A]: 40, [SUBNET_B]: 90 } });
    expect(plan(s, 0).decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_B, ips: 5 }]);
    const t = makeState({ settings: { subnets: [SUBNET_A, SUBNET_B] }, subnets: { [SUBNET_A]: 91, [SUBNET_B]: 90 } });
    expect(plan(t, 0).decisions).toEqual([{ id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 5 }]);
  });

  test("rule 7: extended resource eni-ip has Allocatable = bound IPs, Capacity = maxBindable", () => {
    let s = makeState({
      quota: { enis: 4, ipsPerEni: 10 },
      settings: { ipsPerEni: 6 },
      enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 4) }],
    });
    expect(extendedResource(s)).toEqual({ allocatable: 4, capacity: 24 });
    s = applyResult(plan(s, 0).state, "op-1", { ok: true, ips: ["10.9.9.9"] }, 0);
    expect(extendedResource(s).allocatable).toBe(5);
  });

  test("rule 8: minPrebind <= maxPrebind must hold, and both default to 5", () => {
    expect(() => makeState({ settings: { minPrebind: 6, maxPrebind: 5 } })).toThrow(
      "settings.minPrebind (6) must not be greater than settings.maxPrebind (5)",
    );
    const spec = {
      prebind: { min: 5, max: 5 },
      releaseInterval: "2m",
      ipCooldown: "30s",
      subnets: [SUBNET_A],
    } as Parameters<typeof settingsFromPolicy>[0];
    expect(settingsFromPolicy(spec)).toEqual(settings());
    expect(() =>
      createState({
        settings: settings({ maxPrebind: 2 }),
        quota: { enis: 1, ipsPerEni: 1, ipsPerCall: 10 },
        subnets: {},
      }),
    ).toThrow("minPrebind (5)");
  });
});
