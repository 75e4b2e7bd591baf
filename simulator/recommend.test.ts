// The pure parts of `vpccni simulate --recommend`: the Pareto front, the pick and its rule, the
// snippet, the grid; and one small sweep through the real engine (in threads and without).
import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { VpcCniPolicy } from "../schema/policy.ts";
import { settingsFromPolicy } from "../runtime/pool/index.ts";
import { LATENCY_PROFILES } from "./cloud-model.ts";
import { dominates, paretoFront } from "./pareto.ts";
import { policySnippet, recommend, scores } from "./recommend.ts";
import { DEFAULT_GRID, gridSettings, runSweep, type SweepPoint } from "./sweep.ts";
import { parseTrace } from "./trace.ts";

const point = (
  min: number,
  max: number,
  calls: number,
  waited: number,
  idleMean: number,
  ri = 120_000,
): SweepPoint => ({
  min,
  max,
  releaseIntervalMs: ri,
  calls,
  waited,
  waitP99Ms: waited > 0 ? 1000 : null,
  idleMean,
  idlePeak: Math.ceil(idleMean),
});

describe("the Pareto front", () => {
  test("dominates: no worse everywhere and better somewhere; equal scores dominate neither way", () => {
    expect(dominates([1, 2, 3], [1, 2, 4])).toBe(true);
    expect(dominates([1, 2, 4], [1, 2, 3])).toBe(false);
    expect(dominates([1, 2, 3], [1, 2, 3])).toBe(false);
    expect(dominates([0, 5, 0], [1, 2, 1])).toBe(false);
    expect(() => dominates([1], [1, 2])).toThrow("scores of different lengths (1 and 2)");
  });

  test("keeps the runs no other run beats on calls, waits and idle IPs at once", () => {
    const runs = [
      point(5, 5, 6000, 8, 22), // fewest idle IPs of those with 8 waits
      point(5, 10, 400, 8, 30), // dominated by 2/12
      point(5, 15, 450, 8, 40), // dominated by 5/10 and 2/12
      point(0, 0, 12000, 6000, 1), // fewest idle IPs of all
      point(2, 12, 250, 8, 28), // fewest calls
    ];
    const front = paretoFront(runs, scores);
    expect(front.map((p) => `${p.min}/${p.max}`)).toEqual(["5/5", "0/0", "2/12"]);
  });

  test("property: no front point is dominated by any run, and every other run is dominated by a front point", () => {
    const run = fc.tuple(fc.nat(50), fc.nat(5), fc.nat(20));
    fc.assert(
      fc.property(fc.array(run, { maxLength: 60 }), (scored) => {
        const front = paretoFront(scored, (s) => s);
        for (const f of front) for (const r of scored) expect(dominates(r, f)).toBe(false);
        for (const r of scored) if (!front.includes(r)) expect(front.some((f) => dominates(f, r))).toBe(true);
        if (scored.length > 0) expect(front.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe("the pick", () => {
  test("fewest waiting pods first, then calls within 10% of the fewest, then fewest idle IPs", () => {
    const runs = [
      point(0, 0, 100, 50, 1), // fewest calls and idle, but pods wait
      point(8, 23, 231, 8, 55),
      point(2, 12, 252, 8, 28), // within 10% of 231 calls, far fewer idle IPs: the pick
      point(2, 10, 260, 8, 25.7), // 12.6% more calls than 231: out
    ];
    const r = recommend(runs);
    expect(r.pick).toEqual(runs[2] as SweepPoint);
    expect(r.front.map((p) => `${p.min}/${p.max}`)).toEqual(["8/23", "2/12", "2/10", "0/0"]);
  });

  test("ties go to the smaller min, the smaller max, then the longer releaseInterval; no runs, no pick", () => {
    const runs = [point(3, 9, 300, 0, 20, 60_000), point(3, 9, 300, 0, 20, 600_000), point(3, 8, 300, 0, 20)];
    expect(recommend(runs).pick).toEqual(runs[2] as SweepPoint);
    expect(recommend(runs.slice(0, 2)).pick).toEqual(runs[1] as SweepPoint);
    expect(recommend([])).toEqual({ front: [], pick: null });
  });

  test("the snippet is YAML that the policy schema takes", () => {
    const text = policySnippet({ min: 2, max: 12, releaseIntervalMs: 600_000 });
    expect(text).toBe("spec:\n  prebind:\n    min: 2\n    max: 12\n  releaseInterval: 10m\n");
    const spec = { ...parseYaml(text).spec, clusterId: "cls-a0000001", region: "ap-guangzhou", vpcId: "vpc-a0000001" };
    const policy = VpcCniPolicy.parse({
      apiVersion: "vpccni.io/v1alpha1",
      kind: "VpcCniPolicy",
      metadata: { name: "x" },
      spec: { ...spec, subnets: ["subnet-a0000001"] },
    });
    expect([policy.spec.prebind, policy.spec.releaseInterval]).toEqual([{ min: 2, max: 12 }, "10m"]);
  });
});

describe("the sweep", () => {
  test("the default grid keeps max >= min and holds each setting once", () => {
    const settings = gridSettings(DEFAULT_GRID);
    expect(settings.length).toBe(9 * 8 * 5);
    expect(settings.every((s) => s.max >= s.min)).toBe(true);
    expect(new Set(settings.map((s) => `${s.min}/${s.max}/${s.releaseIntervalMs}`)).size).toBe(settings.length);
  });

  test("threads give the same points, in grid order, as one thread", async () => {
    const text = await readFile(join(import.meta.dir, "../examples/traces/steady.jsonl"), "utf8");
    const spec = VpcCniPolicy.parse({
      apiVersion: "vpccni.io/v1alpha1",
      kind: "VpcCniPolicy",
      metadata: { name: "sweep" },
      spec: { clusterId: "cls-a0000001", region: "ap-guangzhou", vpcId: "vpc-a0000001", subnets: ["subnet-a0000001"] },
    }).spec;
    const run = {
      trace: parseTrace(text, "steady"),
      base: settingsFromPolicy(spec),
      latency: LATENCY_PROFILES.typical!,
      seed: 1,
      settings: gridSettings({ mins: [0, 5], bands: [0, 10], releaseIntervalsMs: [30_000, 600_000] }),
    };
    const inThreads = await runSweep({ ...run, workers: 2 });
    const inline = await runSweep({ ...run, workers: 0 });
    expect(inThreads).toEqual(inline);
    expect(inline.map((p) => `${p.min}/${p.max}`)).toEqual([
      "0/0",
      "0/0",
      "0/10",
      "0/10",
      "5/5",
      "5/5",
      "5/15",
      "5/15",
    ]);
    // a wider band never costs more calls on this trace, and min 0 makes pods wait
    expect(inline[2]!.calls).toBeLessThanOrEqual(inline[0]!.calls);
    expect(inline[0]!.waited).toBeGreaterThan(inline[4]!.waited);
  }, 60_000);

  test("a run that throws in a thread fails the sweep, naming the setting's error", async () => {
    const trace = parseTrace('{"t":1,"node":"n","pod":"p","event":"add"}', "one");
    const base = { minPrebind: 0, maxPrebind: 0, releaseIntervalMs: 1000, cooldownMs: 0, subnets: ["s"], floor: 0 };
    const settings = [
      { min: 1, max: 1, releaseIntervalMs: 1000 },
      { min: 5, max: 2, releaseIntervalMs: 1000 },
    ];
    const sweep = runSweep({ trace, base, latency: LATENCY_PROFILES.fast!, seed: 1, settings, workers: 2 });
    await expect(sweep).rejects.toThrow("settings.minPrebind (5) must not be greater than settings.maxPrebind (2)");
  }, 60_000);
});
