// Switching off (spec.enabled: false) in the pure engine: no new pod gets an IP, idle IPs and
// empty ENIs go at once, running pods keep theirs until their DEL, then the node holds nothing.
import { describe, expect, test } from "bun:test";
import { allocate, release } from "./allocate.ts";
import { applyResult } from "./apply-result.ts";
import { drained, drainPool, isDraining } from "./drain.ts";
import { decisionSink, plan } from "./plan.ts";
import { settingsFromPolicy } from "./settings.ts";
import { cloneState, setSettings } from "./state.ts";
import { extendedResource } from "./summary.ts";
import { FakeCloud, fixedRng, ips, makeState, SUBNET_A, withPods } from "./pool-kit.ts";
import type { EniInventory, PoolState } from "./types.ts";
import type { PolicySpec } from "../../schema/policy.ts";

const eni = (n: number, count: number): EniInventory => ({
  id: `eni-0000000${n}`,
  subnet: SUBNET_A,
  primary: false,
  ips: ips(n, count),
});
const primary: EniInventory = { id: "eni-00000000", subnet: SUBNET_A, primary: true, ips: ["10.0.0.4"] };

const switchOff = (s: PoolState) => setSettings(s, { ...s.settings, draining: true });

/** plan() and a cloud that grants everything, until nothing more is decided. */
function settle(state: PoolState, now = 0): PoolState {
  const cloud = new FakeCloud();
  let s = state;
  for (let i = 0; i < 50; i++) {
    const { state: next, decisions } = plan(s, now);
    s = cloud.settle(next, now);
    if (decisions.length === 0) return s;
  }
  throw new Error("the pool never settled");
}

describe("switching off", () => {
  test("settingsFromPolicy: spec.enabled false drains; true or absent leaves the settings as they were", () => {
    const spec = {
      prebind: { min: 5, max: 5 },
      releaseInterval: "2m",
      ipCooldown: "30s",
      subnets: [SUBNET_A],
    } as unknown as PolicySpec;
    expect(settingsFromPolicy({ ...spec, enabled: false }).draining).toBe(true);
    expect("draining" in settingsFromPolicy({ ...spec, enabled: true })).toBe(false);
  });

  test("drainPool releases every idle IP at once, cooling ones too, in calls of ipsPerCall, and keeps pods' IPs", () => {
    let s = makeState({ quota: { ipsPerCall: 4 }, enis: [primary, eni(1, 7), eni(2, 3)] });
    s = withPods(s, 2); // both on eni-1 (rule 5a)
    s = release(allocate(s, "net/gone/eth0", 0, fixedRng(0)).state, "net/gone/eth0", 0).state; // cooling
    s = switchOff(s);
    const w = cloneState(s);
    const { decisions, emit } = decisionSink(w, 0);
    drainPool(w, 0, emit);
    expect(decisions).toEqual([
      { id: "op-1", action: "release", eni: "eni-00000001", ips: expect.any(Array) },
      { id: "op-2", action: "release", eni: "eni-00000002", ips: ["10.2.0.1", "10.2.0.2", "10.2.0.3"] },
    ]);
    const first = decisions[0] as { ips: string[] };
    expect(first.ips).toHaveLength(4); // 5 idle on eni-1, 4 a call
    const pods = new Set(Object.values(s.pods).map((a) => a.ip));
    expect(first.ips.some((ip) => pods.has(ip))).toBe(false);
    // The primary ENI is never touched.
    expect(decisions.some((d) => "eni" in d && d.eni === primary.id)).toBe(false);
  });

  test("plan() while draining binds nothing, whatever prebind says, and deletes the ENIs it emptied", () => {
    let s = makeState({ settings: { minPrebind: 10, maxPrebind: 10 }, enis: [primary, eni(1, 2)] });
    s = switchOff(s);
    const first = plan(s, 0);
    expect(first.decisions).toEqual([
      { id: "op-1", action: "release", eni: "eni-00000001", ips: ["10.1.0.1", "10.1.0.2"] },
    ]);
    const emptied = applyResult(first.state, "op-1", { ok: true }, 0);
    expect(plan(emptied, 0).decisions).toEqual([{ id: "op-2", action: "delete-eni", eni: "eni-00000001" }]);
  });

  test("a new pod is refused; a pod that has its IP gets the same one again (an idempotent ADD)", () => {
    let s = withPods(makeState({ enis: [eni(1, 4)] }), 1);
    s = switchOff(s);
    const again = allocate(s, "net/c0/eth0", 0, fixedRng(0));
    expect(again).toMatchObject({ ok: true, ip: s.pods["net/c0/eth0"]?.ip });
    const fresh = allocate(s, "net/new/eth0", 0, fixedRng(0));
    expect(fresh).toMatchObject({ ok: false, error: { code: "switched-off" } });
    expect(fresh.state).toBe(s); // not even counted as waiting
  });

  test("eni-ip allocatable is 0 while draining, so the scheduler places no new pod; capacity is unchanged", () => {
    const s = makeState({ enis: [eni(1, 4)] });
    expect(extendedResource(switchOff(s))).toEqual({ allocatable: 0, capacity: extendedResource(s).capacity });
  });

  test("the whole drain: pods stay wired until their DEL, then the node holds no ENI, IP or operation", () => {
    let s = settle(
      makeState({ settings: { minPrebind: 8, maxPrebind: 8 }, quota: { enis: 3, ipsPerEni: 4 }, enis: [primary] }),
    );
    s = settle(withPods(s, 6));
    expect(s.enis.filter((e) => !e.primary).length).toBeGreaterThan(1);
    s = settle(switchOff(s));
    expect(isDraining(s)).toBe(true);
    // Only the pods' IPs are left, on the ENIs that hold them.
    const held = s.enis.flatMap((e) => (e.primary ? [] : e.ips.map((slot) => slot.pod)));
    expect(held.every((pod) => pod !== null)).toBe(true);
    expect(held).toHaveLength(6);
    expect(drained(s)).toBe(false);
    for (let i = 0; i < 6; i++) {
      s = release(s, `net/c${i}/eth0`, 1_000).state;
      s = settle(s, 1_000);
    }
    expect(s.enis.map((e) => e.id)).toEqual([primary.id]);
    expect(drained(s)).toBe(true);
  });

  test("drained() needs the switch: an empty pool that is not draining is just empty", () => {
    const s = makeState({ enis: [primary] });
    expect(drained(s)).toBe(false);
    expect(drained(switchOff(s))).toBe(true);
  });

  test("a cloud error pauses the drain like any release, and the drain resumes after the back-off", () => {
    let s = switchOff(makeState({ enis: [eni(1, 3)] }));
    const first = plan(s, 0);
    s = applyResult(first.state, "op-1", { ok: false, error: { kind: "transient" } }, 0, { rng: fixedRng(0) });
    expect(plan(s, 0).decisions).toEqual([]);
    const later = plan(s, s.backoff.release.until);
    expect(later.decisions).toMatchObject([{ action: "release", eni: "eni-00000001" }]);
  });
});
