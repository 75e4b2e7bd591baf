// The persisted state format: pinned by a v1 fixture, so a shape change without a version bump
// (and a migration in parseState) fails here.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { allocate } from "./allocate.ts";
import { applyResult } from "./apply-result.ts";
import { parseState, serializeState } from "./persist.ts";
import { plan } from "./plan.ts";
import { fixedRng, ips, makeState, SUBNET_A } from "./pool-kit.ts";

const fixture = readFileSync(join(import.meta.dir, "testdata/state-v1.json"), "utf8");

describe("persisted pool state", () => {
  test("a vpccni-pool/1 document written earlier still loads and the engine carries on from it", () => {
    const s = parseState(fixture);
    expect(s.pods["vpccni/abc/eth0"]).toEqual({ ip: "10.1.0.1", eni: "eni-00000001", since: 1000 });
    const next = applyResult(s, "op-1", { ok: true, ips: ips(1, 4, 3) }, 3000);
    expect(next.enis[0]?.ips).toHaveLength(6);
  });

  test("today's engine writes exactly the pinned v1 shape", () => {
    let s = makeState({ enis: [{ id: "eni-00000001", subnet: SUBNET_A, primary: false, ips: ips(1, 2) }] });
    s = allocate(s, "vpccni/abc/eth0", 1000, fixedRng(0)).state;
    s = plan(s, 2000).state;
    // same shape; the release cadence's first tick is now set from the first plan (the fixture,
    // written before the cadence, has none: it still loads, above)
    expect(JSON.parse(serializeState(s))).toEqual({
      ...JSON.parse(fixture),
      release: { dueAt: 122_000, draining: false },
    });
    expect(serializeState(parseState(serializeState(s)))).toBe(serializeState(s));
  });

  test("an unknown version or a damaged field is refused, naming it", () => {
    expect(() => parseState(fixture.replace("vpccni-pool/1", "vpccni-pool/0"))).toThrow(
      'state.version "vpccni-pool/0" is not supported; allowed: vpccni-pool/1',
    );
    const bad = JSON.parse(fixture);
    bad.enis[0].ips[1].releasing = "no";
    expect(() => parseState(bad)).toThrow("state.enis[0].ips[1]");
    expect(() => parseState("{")).toThrow("pool state is not JSON");
    expect(() => parseState({ ...JSON.parse(fixture), inflight: {} })).toThrow("state.inflight ({}) must be an array");
  });

  test("each damaged part is refused with its own field named and what is allowed", () => {
    const good = () => JSON.parse(fixture);
    const damaged = (change: (x: Record<string, any>) => void) => {
      const x = good();
      change(x);
      return () => parseState(x);
    };
    expect(() => parseState(null)).toThrow("state (null) must be an object");
    expect(() => parseState([])).toThrow("state ([]) must be an object");
    for (const key of ["settings", "quota", "pods", "waiting", "release", "backoff", "paused"]) {
      expect(damaged((x) => (x[key] = 7))).toThrow(`state.${key} (7) must be an object`);
      expect(damaged((x) => (x[key] = null))).toThrow(`state.${key} (null) must be an object`);
    }
    expect(damaged((x) => (x.backoff.release = []))).toThrow("state.backoff.release ([]) must be an object");
    expect(damaged((x) => (x.enis = "x"))).toThrow('state.enis ("x") must be an array');
    for (const seq of [0, 1.5, "2"])
      expect(damaged((x) => (x.nextOpSeq = seq))).toThrow(
        `state.nextOpSeq (${JSON.stringify(seq)}) must be an integer >= 1`,
      );
    expect(parseState({ ...good(), nextOpSeq: 1 }).nextOpSeq).toBe(1);
    expect(damaged((x) => (x.enis[0] = 3))).toThrow("state.enis[0] (3) must be an object");
    expect(damaged((x) => (x.enis[0].id = 3))).toThrow("state.enis[0] needs string id and subnet; found {");
    expect(damaged((x) => delete x.enis[0].subnet)).toThrow("state.enis[0] needs string id and subnet");
    expect(damaged((x) => (x.enis[0].ips = {}))).toThrow("state.enis[0].ips ({}) must be an array");
    expect(damaged((x) => (x.enis[0].ips[0] = "10.1.0.1"))).toThrow(
      'state.enis[0].ips[0] ("10.1.0.1") must be an object',
    );
    const slot = "must be {ip: string, pod: string|null, coolUntil: number, releasing: boolean}";
    for (const [field, value] of [
      ["ip", 1],
      ["pod", 1],
      ["pod", undefined],
      ["coolUntil", "0"],
      ["releasing", 0],
    ] as const)
      expect(damaged((x) => (x.enis[0].ips[1][field] = value))).toThrow(`state.enis[0].ips[1] (`);
    expect(damaged((x) => (x.enis[0].ips[1].coolUntil = "0"))).toThrow(slot);
    // a free slot (pod null) and a held one (pod a key) both load
    expect(parseState(good()).enis[0]?.ips.map((x) => x.pod)).toEqual(["vpccni/abc/eth0", null]);
  });
});
