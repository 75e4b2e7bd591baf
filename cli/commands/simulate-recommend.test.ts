// `vpccni simulate --recommend` through the real CLI entry point: a small grid on the steady
// trace (the default 360-run sweep of the diurnal trace is docs/pool.md's, not a test's).
import { expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";

const ROOT = join(import.meta.dir, "..", "..");
const recommend = (...args: string[]) =>
  run([process.execPath, "cli/main.ts", "simulate", "--recommend", ...args], { cwd: ROOT });
const grid = ["--trace", "steady", "--mins", "0,5", "--bands", "0,10", "--intervals", "30s,10m"];

test("--recommend prints the front, the pick with its rule and the snippet; --json the same as data", async () => {
  const text = await recommend(...grid, "--policy", "examples/policies/general.yaml");
  expect(text.stderr).toBe("");
  expect(text.code).toBe(0);
  expect(text.stdout).toStartWith("trace steady: 3 node(s), 970 events; latency typical, seed 1 for every run\n");
  expect(text.stdout).toContain("8 runs of the pool engine in ");
  expect(text.stdout).toContain("min  max  releaseInterval  API calls  pods waited  wait p99  idle mean  idle peak");
  expect(text.stdout).toContain("the policy's own setting:\n");
  expect(text.stdout).toContain("  rule: among the front points with the fewest waiting pods");
  expect(text.stdout).toMatch(
    /\npaste into the policy:\n\nspec:\n {2}prebind:\n {4}min: \d+\n {4}max: \d+\n {2}releaseInterval: \d+[sm]\n$/,
  );

  const json = await recommend(...grid, "--output", "json", "--workers", "0");
  expect(json.code).toBe(0);
  const doc = JSON.parse(json.stdout);
  expect(doc.version).toBe("vpccni-recommend/1");
  expect(doc.objectives).toEqual(["apiCalls", "podsWaited", "idleIpsMean"]);
  expect(doc.grid).toEqual({ mins: [0, 5], bands: [0, 10], releaseIntervals: ["30s", "10m"] });
  // the policy's own 5/5, 2m is off this grid: it runs for comparison but is not a sweep run
  expect(doc.runs.length).toBe(8);
  expect([doc.current.min, doc.current.max, doc.current.releaseIntervalMs]).toEqual([5, 5, 120_000]);
  expect(doc.front.length).toBeGreaterThan(0);
  expect(doc.front).toContainEqual(doc.pick);
  expect(doc.snippet).toBe(
    `spec:\n  prebind:\n    min: ${doc.pick.min}\n    max: ${doc.pick.max}\n  releaseInterval: ${doc.pick.releaseIntervalMs / 60_000}m\n`,
  );
  // the text and the JSON come from the same runs, whatever the threads
  expect(text.stdout).toContain(doc.snippet);
}, 120_000);

test("--recommend: bad values are usage errors (2) naming the value and what is allowed", async () => {
  const cases: [string[], string][] = [
    [["--mins", "5..2"], '--mins is "5..2"; allowed: whole numbers 0..256 as A..B or A,B,C, e.g. 0..3,5,8'],
    [["--bands", "x"], '--bands is "x"; allowed: whole numbers 0..256 as A..B or A,B,C, e.g. 0..3,5,8'],
    [["--intervals", "2m,0s"], '--intervals is "2m,0s"; allowed: durations above 0s, comma-separated, e.g. 30s,2m,10m'],
    [["--seed", "1.5"], '--seed is "1.5"; allowed: a whole number from 0'],
    [["--workers", "100"], '--workers is "100"; allowed: a whole number from 0 to 64'],
    [["--output", "yaml"], '--output is "yaml"; allowed: text or json'],
  ];
  for (const [args, message] of cases) {
    const r = await recommend(...args);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: `vpccni simulate: ${message}\n` });
  }
  const missing = await recommend("--trace", "no-such-trace.jsonl", "--mins", "5", "--bands", "0", "--intervals", "2m");
  expect(missing.code).toBe(1);
  expect(missing.stderr).toStartWith("vpccni simulate: ");
}, 60_000);
