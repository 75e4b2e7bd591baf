// `vpccni simulate` end to end through the real CLI entry point.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { makeTempDir } from "../sandbox/janitor.ts";

const root = join(import.meta.dir, "..");

function vpccni(args: string[]) {
  const r = Bun.spawnSync([process.execPath, "cli/main.ts", ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("vpccni simulate --json --compare aws prints both reports and writes the chart", async () => {
  const out = makeTempDir("sim-cli");
  const r = vpccni([
    "simulate",
    "--policy",
    "examples/policies/general.yaml",
    "--trace",
    "examples/traces/burst.jsonl",
    "--compare",
    "aws",
    "--json",
    "--out",
    out,
    "--progress",
  ]);
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(Object.keys(report.reports).sort()).toEqual(["aws", "vpccni"]);
  expect(report.reports.vpccni.pods.added).toBe(100);
  expect(report.files.png).toBe(join(out, "chart.png"));
  expect(r.stderr).toContain("simulate vpccni: 100% (200/200 events)");
}, 60_000);

test("vpccni simulate prints a text report, and names a bad flag value", async () => {
  const out = makeTempDir("sim-cli");
  const ok = vpccni([
    "simulate",
    "--policy",
    "examples/policies/general.yaml",
    "--trace",
    "examples/traces/steady.jsonl",
    "--prebind",
    "5:15",
    "--out",
    out,
  ]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain("calls / lower bound");
  expect(ok.stdout).toContain("5/15");
  const bad = vpccni([
    "simulate",
    "--policy",
    "examples/policies/general.yaml",
    "--trace",
    "examples/traces/steady.jsonl",
    "--prebind",
    "9:3",
  ]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--prebind is "9:3"; allowed: MIN:MAX with 0 <= MIN <= MAX <= 256');
}, 60_000);
