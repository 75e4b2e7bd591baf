// applyResult() on its own: each outcome of each decision, folded into the ENIs, the subnets'
// free IPs and the pauses and back-offs; results that contradict the state are refused.
import { describe, expect, test } from "bun:test";
import { applyResult, AUTH_PAUSE_MS, ENI_QUOTA_PAUSE_MS, SUBNET_PAUSE_MS } from "./apply-result.ts";
import { decisionSink } from "./plan.ts";
import { cloneState } from "./state.ts";
import { assignTo, ips, makeState, SUBNET_A, SUBNET_B } from "./pool-kit.ts";
import type { Decision, ErrorKind, PoolState } from "./types.ts";

const ENI_A = "eni-00000001"; // in subnet A, 10.1.0.1-4
const ENI_B = "eni-00000002"; // in subnet B, 10.2.0.1-4

function base(): PoolState {
  return makeState({
    settings: { subnets: [SUBNET_A, SUBNET_B] },
    subnets: { [SUBNET_A]: 100, [SUBNET_B]: 50 },
    enis: [
      { id: ENI_A, subnet: SUBNET_A, primary: false, ips: ips(1, 4) },
      { id: ENI_B, subnet: SUBNET_B, primary: false, ips: ips(2, 4) },
    ],
  });
}

/** The state with `d` in flight, as plan() leaves it (a release marks its IPs, a delete its ENI). */
function inFlight(d: Decision, state = base()): PoolState {
  const s = cloneState(state);
  decisionSink(s, 0).emit(d);
  const e = "eni" in d ? s.enis.find((x) => x.id === d.eni) : undefined;
  if (d.action === "release") for (const slot of e?.ips ?? []) if (d.ips.includes(slot.ip)) slot.releasing = true;
  if (d.action === "delete-eni" && e !== undefined) e.deleting = true;
  return s;
}

const free = (s: PoolState) => s.subnets.map((n) => [n.id, n.available, n.pausedUntil]);
const eniOf = (s: PoolState, id: string) => s.enis.find((e) => e.id === id);
const fail = (kind: ErrorKind, detached?: boolean) => ({
  ok: false as const,
  error: { kind },
  ...(detached ? { detached } : {}),
});

const bindB: Decision = { id: "op-1", action: "bind", eni: ENI_B, count: 3 };
const create: Decision = { id: "op-1", action: "create-eni", subnet: SUBNET_A, ips: 2 };
const releaseB: Decision = { id: "op-1", action: "release", eni: ENI_B, ips: ["10.2.0.1", "10.2.0.2"] };
const deleteB: Decision = { id: "op-1", action: "delete-eni", eni: ENI_B };

describe("a subnet's free IPs follow what the node binds and gives back", () => {
  test("a bind takes from its ENI's subnet only, and the new IPs are kept in address order", () => {
    const s = applyResult(inFlight(bindB), "op-1", { ok: true, ips: ["10.2.0.9", "10.2.0.10", "10.2.0.5"] }, 1);
    expect(free(s)).toEqual([
      [SUBNET_A, 100, 0],
      [SUBNET_B, 47, 0],
    ]);
    expect(eniOf(s, ENI_B)?.ips.map((x) => x.ip)).toEqual([
      "10.2.0.1",
      "10.2.0.10",
      "10.2.0.2",
      "10.2.0.3",
      "10.2.0.4",
      "10.2.0.5",
      "10.2.0.9",
    ]);
    expect(s.inflight).toEqual([]);
  });

  test("a new ENI takes its IPs from the decision's subnet and joins the ENIs in id order", () => {
    const s = applyResult(
      inFlight(create),
      "op-1",
      { ok: true, eni: "eni-00000000", ips: ["10.1.0.8", "10.1.0.7"] },
      1,
    );
    expect(free(s)).toEqual([
      [SUBNET_A, 98, 0],
      [SUBNET_B, 50, 0],
    ]);
    expect(s.enis.map((e) => e.id)).toEqual(["eni-00000000", ENI_A, ENI_B]);
    expect(eniOf(s, "eni-00000000")).toEqual({
      id: "eni-00000000",
      subnet: SUBNET_A,
      primary: false,
      full: false,
      deleting: false,
      ips: [
        { ip: "10.1.0.7", pod: null, coolUntil: 0, releasing: false },
        { ip: "10.1.0.8", pod: null, coolUntil: 0, releasing: false },
      ],
    });
  });

  test("a subnet never counts below zero free IPs", () => {
    const low = base();
    (low.subnets[1] as { available: number }).available = 2;
    const s = applyResult(inFlight(bindB, low), "op-1", { ok: true, ips: ["10.2.0.7", "10.2.0.8", "10.2.0.9"] }, 1);
    expect(free(s)[1]).toEqual([SUBNET_B, 0, 0]);
  });

  test("a release gives its IPs back to its ENI's subnet and the ENI is no longer full", () => {
    const before = inFlight(releaseB);
    (eniOf(before, ENI_B) as { full: boolean }).full = true;
    const s = applyResult(before, "op-1", { ok: true }, 1);
    expect(free(s)).toEqual([
      [SUBNET_A, 100, 0],
      [SUBNET_B, 52, 0],
    ]);
    expect(eniOf(s, ENI_B)?.ips.map((x) => x.ip)).toEqual(["10.2.0.3", "10.2.0.4"]);
    expect(eniOf(s, ENI_B)?.full).toBe(false);
    expect(eniOf(s, ENI_A)?.ips).toHaveLength(4);
  });

  test("a deleted ENI goes, with the IPs it still held back to its subnet", () => {
    const s = applyResult(inFlight(deleteB), "op-1", { ok: true }, 1);
    expect(s.enis.map((e) => e.id)).toEqual([ENI_A]);
    expect(free(s)).toEqual([
      [SUBNET_A, 100, 0],
      [SUBNET_B, 54, 0],
    ]);
  });
});

describe("results that contradict the state are refused, naming the operation", () => {
  test("an operation that is not in flight", () => {
    expect(() => applyResult(base(), "op-7", { ok: true }, 1)).toThrow(
      'applyResult: operation "op-7" is not in flight; in flight: none',
    );
    expect(() => applyResult(inFlight(bindB), "op-7", { ok: true }, 1)).toThrow("in flight: op-1");
  });
  test("a create without the new ENI's id, or IPs that are not a list of addresses", () => {
    expect(() => applyResult(inFlight(create), "op-1", { ok: true, eni: "", ips: [] }, 1)).toThrow(
      'applyResult op-1 (create-eni): result.eni ("") must be the new ENI\'s id',
    );
    expect(() => applyResult(inFlight(create), "op-1", { ok: true, ips: [] }, 1)).toThrow("must be the new ENI's id");
    for (const bad of [undefined, [""], ["10.2.0.9", 5]])
      expect(() => applyResult(inFlight(bindB), "op-1", { ok: true, ips: bad as string[] }, 1)).toThrow(
        `applyResult op-1 (bind): result.ips (${JSON.stringify(bad)}) must list the bound IP addresses`,
      );
  });
  test("an address bound to another ENI; one the ENI holds already is merged, once", () => {
    expect(() => applyResult(inFlight(bindB), "op-1", { ok: true, ips: ["10.1.0.1"] }, 1)).toThrow(
      `result.ips has 10.1.0.1, which is bound to ${ENI_A}, not ${ENI_B}`,
    );
    const s = applyResult(inFlight(bindB), "op-1", { ok: true, ips: ["10.2.0.1", "10.2.0.9", "10.2.0.9"] }, 1);
    expect(eniOf(s, ENI_B)?.ips.map((x) => x.ip)).toEqual(["10.2.0.1", "10.2.0.2", "10.2.0.3", "10.2.0.4", "10.2.0.9"]);
    expect(free(s)[1]).toEqual([SUBNET_B, 49, 0]);
  });
  test("an address whose release from another ENI is in flight was freed by that release: it moves, once", () => {
    // ENI A releases 10.1.0.1 and 10.1.0.2; before that answer comes, a bind on B gets 10.1.0.1
    // (the cloud gives out only free addresses), so the release has happened.
    const releaseA: Decision = { id: "op-1", action: "release", eni: ENI_A, ips: ["10.1.0.1", "10.1.0.2"] };
    const both = inFlight({ ...bindB, id: "op-2" }, inFlight(releaseA));
    const moved = applyResult(both, "op-2", { ok: true, ips: ["10.1.0.1"] }, 1);
    expect(eniOf(moved, ENI_A)?.ips.map((x) => x.ip)).toEqual(["10.1.0.2", "10.1.0.3", "10.1.0.4"]);
    expect(eniOf(moved, ENI_B)?.ips.map((x) => x.ip)).toEqual([
      "10.1.0.1",
      "10.2.0.1",
      "10.2.0.2",
      "10.2.0.3",
      "10.2.0.4",
    ]);
    // Free counts follow each ENI: one back to A's subnet, one taken from B's.
    expect(free(moved)).toEqual([
      [SUBNET_A, 101, 0],
      [SUBNET_B, 49, 0],
    ]);
    const done = applyResult(moved, "op-1", { ok: true }, 2);
    expect(eniOf(done, ENI_A)?.ips.map((x) => x.ip)).toEqual(["10.1.0.3", "10.1.0.4"]);
    expect(eniOf(done, ENI_B)?.ips).toHaveLength(5);
    expect(done.inflight).toEqual([]);
    // An address of A that no release frees is still refused.
    expect(() => applyResult(both, "op-2", { ok: true, ips: ["10.1.0.3"] }, 1)).toThrow(
      `result.ips has 10.1.0.3, which is bound to ${ENI_A}, not ${ENI_B}`,
    );
  });
});

describe("failures", () => {
  test("a failed release un-marks only its own IPs; a failed delete leaves the ENI usable unless it was detached", () => {
    const before = inFlight(releaseB);
    for (const slot of eniOf(before, ENI_A)?.ips ?? []) if (slot.ip === "10.1.0.1") slot.releasing = true;
    const s = applyResult(before, "op-1", fail("transient"), 1);
    expect(eniOf(s, ENI_B)?.ips.map((x) => x.releasing)).toEqual([false, false, false, false]);
    expect(eniOf(s, ENI_A)?.ips.map((x) => x.releasing)).toEqual([true, false, false, false]);
    expect(eniOf(applyResult(inFlight(deleteB), "op-1", fail("transient"), 1), ENI_B)?.deleting).toBe(false);
    expect(eniOf(applyResult(inFlight(deleteB), "op-1", fail("transient", true), 1), ENI_B)?.deleting).toBe(true);
    expect(eniOf(applyResult(inFlight(deleteB), "op-1", fail("transient"), 1), ENI_A)?.deleting).toBe(false);
  });

  test("ENI quota: no creation for 10 minutes; IP quota: that ENI is full, or no creation when it was a create", () => {
    expect(applyResult(inFlight(create), "op-1", fail("eni-quota"), 1_000).paused).toEqual({
      createUntil: 1_000 + ENI_QUOTA_PAUSE_MS,
      allUntil: 0,
    });
    const full = applyResult(inFlight(bindB), "op-1", fail("ip-quota"), 1_000);
    expect(fullFlags(full)).toEqual([false, true]);
    expect(full.paused.createUntil).toBe(0);
    const created = applyResult(inFlight(create), "op-1", fail("ip-quota"), 1_000);
    expect(created.paused.createUntil).toBe(1_000 + ENI_QUOTA_PAUSE_MS);
    expect(fullFlags(created)).toEqual([false, false]);
    // a create whose ENI is in the pool already (its first IPs came in, applyProgress): the same
    const served = applyResult(inFlight({ ...create, eni: ENI_B }), "op-1", fail("ip-quota"), 1_000);
    expect(served.paused.createUntil).toBe(1_000 + ENI_QUOTA_PAUSE_MS);
    expect(fullFlags(served)).toEqual([false, false]);
  });

  test("subnet exhausted: that subnet (the ENI's, or the create's) has no free IP and is skipped for 2 minutes", () => {
    expect(free(applyResult(inFlight(bindB), "op-1", fail("subnet-exhausted"), 1_000))).toEqual([
      [SUBNET_A, 100, 0],
      [SUBNET_B, 0, 1_000 + SUBNET_PAUSE_MS],
    ]);
    expect(free(applyResult(inFlight(create), "op-1", fail("subnet-exhausted"), 1_000))).toEqual([
      [SUBNET_A, 0, 1_000 + SUBNET_PAUSE_MS],
      [SUBNET_B, 50, 0],
    ]);
  });

  test("not found: a release's IPs are gone, a bind's or delete's ENI is gone unless a pod holds one of its IPs", () => {
    const released = applyResult(inFlight(releaseB), "op-1", fail("not-found"), 1);
    expect(eniOf(released, ENI_B)?.ips.map((x) => x.ip)).toEqual(["10.2.0.3", "10.2.0.4"]);
    expect(free(released)[1]).toEqual([SUBNET_B, 52, 0]);
    expect(applyResult(inFlight(bindB), "op-1", fail("not-found"), 1).enis.map((e) => e.id)).toEqual([ENI_A]);
    expect(applyResult(inFlight(deleteB), "op-1", fail("not-found"), 1).enis.map((e) => e.id)).toEqual([ENI_A]);
    const held = inFlight(bindB, assignTo(base(), ENI_B, "10.2.0.3", "net/p/eth0"));
    expect(applyResult(held, "op-1", fail("not-found"), 1).enis.map((e) => e.id)).toEqual([ENI_A, ENI_B]);
    // a create that found nothing backs off
    expect(applyResult(inFlight(create), "op-1", fail("not-found"), 1).backoff["create-eni"]).toEqual({
      failures: 1,
      until: 1_001,
    });
  });

  test("credentials refused: every mutation waits 5 minutes", () => {
    expect(applyResult(inFlight(bindB), "op-1", fail("auth"), 1_000).paused).toEqual({
      createUntil: 0,
      allUntil: 1_000 + AUTH_PAUSE_MS,
    });
  });

  test("throttled or transient: per-action back-off doubling from 1 s, spread over [0.5, 1) by the rng, reset by a success", () => {
    let s = applyResult(inFlight(bindB), "op-1", fail("throttled"), 1_000);
    expect(s.backoff.bind).toEqual({ failures: 1, until: 2_000 });
    expect(s.backoff.release).toEqual({ failures: 0, until: 0 });
    s = applyResult(inFlight({ ...bindB, id: "op-2" }, s), "op-2", fail("transient"), 1_000, { rng: () => 0 });
    expect(s.backoff.bind).toEqual({ failures: 2, until: 1_000 + 1_000 });
    s = applyResult(inFlight({ ...bindB, id: "op-3" }, s), "op-3", fail("transient"), 1_000, { rng: () => 0.5 });
    expect(s.backoff.bind).toEqual({ failures: 3, until: 1_000 + 3_000 });
    s = applyResult(inFlight({ ...bindB, id: "op-4" }, s), "op-4", { ok: true, ips: ["10.2.0.9"] }, 1_000);
    expect(s.backoff.bind).toEqual({ failures: 0, until: 0 });
  });
});

function fullFlags(s: PoolState): boolean[] {
  return s.enis.map((e) => e.full);
}
