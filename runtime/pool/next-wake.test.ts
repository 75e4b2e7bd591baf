// nextWakeAt() on its own: which times count, and when the release tick is worth waking for.
import { describe, expect, test } from "bun:test";
import { WAITING_TTL_MS } from "./allocate.ts";
import { nextWakeAt } from "./next-wake.ts";
import { cloneState } from "./state.ts";
import { assignTo, ips, makeState, SUBNET_A } from "./pool-kit.ts";
import type { PoolState } from "./types.ts";

const ENI = "eni-00000001";

/** One ENI with `n` idle IPs, minPrebind = maxPrebind = 5, the release tick due at 120 s. */
function node(n: number, over: Partial<PoolState["settings"]> = {}): PoolState {
  const s = cloneState(
    makeState({ settings: over, enis: [{ id: ENI, subnet: SUBNET_A, primary: false, ips: ips(1, n) }] }),
  );
  s.release.dueAt = 120_000;
  return s;
}

describe("nextWakeAt", () => {
  test("the earliest time still to come among pauses, back-offs and subnet pauses; null when none", () => {
    const s = assignTo(node(6), ENI, "10.1.0.1", "net/a/eth0");
    expect(nextWakeAt(s, 0)).toBeNull(); // 1 pod + 5 idle: the tick has nothing to do
    s.paused.allUntil = 9_000;
    s.paused.createUntil = 7_000;
    s.backoff.release = { failures: 1, until: 8_000 };
    (s.subnets[0] as { pausedUntil: number }).pausedUntil = 6_000;
    expect(nextWakeAt(s, 0)).toBe(6_000);
    expect(nextWakeAt(s, 6_000)).toBe(7_000); // a time that is now has passed
    expect(nextWakeAt(s, 7_500)).toBe(8_000);
    expect(nextWakeAt(s, 8_000)).toBe(9_000);
    expect(nextWakeAt(s, 9_000)).toBeNull();
  });

  test("the release tick counts while draining, above pods + maxPrebind, or with a podless ENI; not at the band", () => {
    expect(nextWakeAt(node(6), 0)).toBe(120_000); // one above the band
    const held = assignTo(node(6), ENI, "10.1.0.1", "net/a/eth0"); // 1 pod + 5 = 6: in the band, ENI holds a pod
    expect(nextWakeAt(held, 0)).toBeNull();
    const draining = cloneState(held);
    draining.release.draining = true;
    expect(nextWakeAt(draining, 0)).toBe(120_000);
    // the floor raises the band: 6 idle under a floor of 6 is not a surplus, but the ENI holds no pod
    expect(nextWakeAt(node(6, { floor: 6 }), 0)).toBe(120_000);
    const primary = node(5);
    (primary.enis[0] as { primary: boolean }).primary = true;
    expect(nextWakeAt(primary, 0)).toBeNull(); // the primary ENI is never emptied
    expect(nextWakeAt(node(0), 0)).toBeNull(); // an ENI without IPs is rule 5d's, not the tick's
  });

  test("with a pod waiting: the end of each idle IP's cooldown and the waiting pod's expiry count", () => {
    const s = node(2);
    s.release.dueAt = null;
    for (const [i, slot] of s.enis[0]?.ips.entries() ?? []) slot.coolUntil = 30_000 + i * 10_000;
    expect(nextWakeAt(s, 0)).toBeNull(); // nobody waits for them
    s.waiting["net/w/eth0"] = 1_000;
    expect(nextWakeAt(s, 0)).toBe(30_000);
    (s.enis[0]?.ips[0] as { releasing: boolean }).releasing = true; // going back to the VPC: not for the pod
    expect(nextWakeAt(s, 0)).toBe(40_000);
    (s.enis[0]?.ips[1] as { pod: string | null }).pod = "net/x/eth0";
    expect(nextWakeAt(s, 0)).toBe(1_000 + WAITING_TTL_MS);
  });
});
