// From a policy to the engine's settings, the checks on a hand-built state, and the updates the
// agent makes from what it observes (policy, quota, subnets, the cloud's ENIs).
import { describe, expect, test } from "bun:test";
import { checkSettings, limitsOf, settingsFromPolicy } from "./settings.ts";
import { cloneState, isPaused, setQuota, setSettings, setSubnets, syncInventory } from "./state.ts";
import { assignTo, ips, makeState, settings, SUBNET_A, SUBNET_B } from "./pool-kit.ts";

const spec = (over: Record<string, unknown> = {}) =>
  ({
    prebind: { min: 3, max: 8 },
    releaseInterval: "1h30m",
    ipCooldown: "45s",
    subnets: [SUBNET_B, SUBNET_A],
    ...over,
  }) as unknown as Parameters<typeof settingsFromPolicy>[0];

const quota = { enis: 3, ipsPerEni: 10, ipsPerCall: 10 };

describe("settingsFromPolicy", () => {
  test("prebind, timers and subnets as the policy says; limits only when set; switched off: draining", () => {
    expect(settingsFromPolicy(spec())).toEqual({
      minPrebind: 3,
      maxPrebind: 8,
      releaseIntervalMs: 5_400_000,
      cooldownMs: 45_000,
      subnets: [SUBNET_B, SUBNET_A],
      floor: 0,
    });
    expect(settingsFromPolicy(spec({ limits: { maxEnisPerNode: 2, ipsPerEni: 6 }, enabled: false }))).toMatchObject({
      maxEnisPerNode: 2,
      ipsPerEni: 6,
      draining: true,
    });
    expect(Object.keys(settingsFromPolicy(spec({ limits: {}, enabled: true })))).not.toContain("draining");
  });
  test("a duration the schema should have refused names its field", () => {
    expect(() => settingsFromPolicy(spec({ releaseInterval: "2 min" }))).toThrow(
      'spec.releaseInterval "2 min" is not a duration; allowed: "30s", "2m", "1h30m"',
    );
    expect(() => settingsFromPolicy(spec({ ipCooldown: "" }))).toThrow('spec.ipCooldown "" is not a duration');
  });
});

describe("checkSettings", () => {
  test("every count is an integer >= 0, named when it is not; ipsPerCall is at least 1", () => {
    const fields = ["minPrebind", "maxPrebind", "floor", "releaseIntervalMs", "cooldownMs"] as const;
    for (const field of fields) {
      expect(() => checkSettings(settings({ [field]: -1 }), quota)).toThrow(
        `settings.${field} (-1) must be an integer >= 0`,
      );
      expect(() => checkSettings(settings({ maxPrebind: 9, [field]: 0.5 }), quota)).toThrow(`settings.${field} (0.5)`);
    }
    for (const field of ["enis", "ipsPerEni"] as const)
      expect(() => checkSettings(settings(), { ...quota, [field]: -1 })).toThrow(
        `quota.${field} (-1) must be an integer >= 0`,
      );
    expect(() => checkSettings(settings(), { ...quota, ipsPerCall: 0 })).toThrow(
      "quota.ipsPerCall (0) must be an integer >= 1",
    );
    expect(() => checkSettings(settings(), { ...quota, ipsPerCall: 1.5 })).toThrow("quota.ipsPerCall (1.5)");
    // the edges that are valid
    expect(() =>
      checkSettings(settings({ minPrebind: 0, maxPrebind: 0, floor: 0 }), { ...quota, enis: 0, ipsPerCall: 1 }),
    ).not.toThrow();
  });
});

describe("limitsOf", () => {
  test("the policy's limits lower the quota, never raise it", () => {
    expect(limitsOf({ settings: settings({ maxEnisPerNode: 2, ipsPerEni: 6 }), quota })).toEqual({
      maxEnis: 2,
      ipsPerEni: 6,
      maxBindable: 12,
      ipsPerCall: 10,
    });
    expect(limitsOf({ settings: settings({ maxEnisPerNode: 9, ipsPerEni: 60 }), quota })).toEqual({
      maxEnis: 3,
      ipsPerEni: 10,
      maxBindable: 30,
      ipsPerCall: 10,
    });
  });
});

describe("updates from what the agent observes", () => {
  test("setSubnets: the policy's subnets in its order, missing ones at 0, a pause kept; a bad count is refused", () => {
    let s = makeState({ settings: { subnets: [SUBNET_B, SUBNET_A] }, subnets: { [SUBNET_A]: 5 } });
    expect(s.subnets).toEqual([
      { id: SUBNET_B, available: 0, pausedUntil: 0 },
      { id: SUBNET_A, available: 5, pausedUntil: 0 },
    ]);
    s = cloneState(s);
    (s.subnets[1] as { pausedUntil: number }).pausedUntil = 9_000;
    expect(setSubnets(s, { [SUBNET_A]: 7, [SUBNET_B]: 1 }).subnets).toEqual([
      { id: SUBNET_B, available: 1, pausedUntil: 0 },
      { id: SUBNET_A, available: 7, pausedUntil: 9_000 },
    ]);
    expect(() => setSubnets(s, { [SUBNET_A]: -1 })).toThrow(`subnets["${SUBNET_A}"] (-1) must be an integer >= 0`);
    expect(() => setSubnets(s, { [SUBNET_B]: 2.5 })).toThrow(`subnets["${SUBNET_B}"] (2.5)`);
  });

  test("setSettings and setQuota check what they get and keep the subnets' counts", () => {
    const s = makeState({ subnets: { [SUBNET_A]: 40 } });
    const next = setSettings(s, settings({ subnets: [SUBNET_A, SUBNET_B], maxPrebind: 9 }));
    expect(next.settings.maxPrebind).toBe(9);
    expect(next.subnets.map((n) => [n.id, n.available])).toEqual([
      [SUBNET_A, 40],
      [SUBNET_B, 0],
    ]);
    expect(() => setSettings(s, settings({ minPrebind: 6 }))).toThrow("settings.minPrebind (6)");
    expect(setQuota(s, { ...quota, enis: 5 }).quota.enis).toBe(5);
    expect(() => setQuota(s, { ...quota, ipsPerCall: 0 })).toThrow("quota.ipsPerCall (0)");
    expect(s.quota.enis).toBe(3); // the caller's state is never changed
  });

  test("syncInventory: the cloud's ENIs in id order, addresses sorted once each; pods whose address is gone are reported", () => {
    let s = makeState({
      enis: [
        { id: "eni-00000002", subnet: SUBNET_A, primary: false, ips: ips(2, 2) },
        { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 2) },
      ],
    });
    expect(s.enis.map((e) => e.id)).toEqual(["eni-00000001", "eni-00000002"]);
    s = assignTo(s, "eni-00000001", "10.1.0.2", "net/b/eth0");
    s = assignTo(s, "eni-00000002", "10.2.0.1", "net/a/eth0");
    const r = syncInventory(s, [
      { id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ["10.1.0.3", "10.1.0.2", "10.1.0.3"] },
    ]);
    expect(r.state.enis.map((e) => [e.id, e.ips.map((x) => [x.ip, x.pod])])).toEqual([
      [
        "eni-00000001",
        [
          ["10.1.0.2", "net/b/eth0"],
          ["10.1.0.3", null],
        ],
      ],
    ]);
    expect(r.lostPods).toEqual(["net/a/eth0"]);
    // an address on the primary ENI never holds a pod here
    const moved = syncInventory(s, [{ id: "eni-00000001", subnet: SUBNET_A, primary: true, ips: ips(1, 2) }]);
    expect(moved.lostPods).toEqual(["net/a/eth0", "net/b/eth0"]);
  });

  test("isPaused: everything while credentials are refused, creation after a quota error, each action's back-off", () => {
    const s = cloneState(makeState());
    s.paused = { allUntil: 100, createUntil: 200 };
    s.backoff.release = { failures: 1, until: 300 };
    expect(["bind", "create-eni", "release", "delete-eni"].map((a) => isPaused(s, a as "bind", 99))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["bind", "create-eni", "release", "delete-eni"].map((a) => isPaused(s, a as "bind", 100))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(["bind", "create-eni", "release"].map((a) => isPaused(s, a as "bind", 200))).toEqual([false, false, true]);
    expect(isPaused(s, "release", 300)).toBe(false);
  });
});
