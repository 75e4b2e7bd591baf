// `vpccni simulate --fleet --scenario ...` through the real CLI entry point: the rolling restart
// and the diurnal day per retry strategy, and the scenario flags' usage errors.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../../sandbox/janitor.ts";

const root = join(import.meta.dir, "../..");
const base = ["simulate", "--fleet", "--policy", "examples/policies/general.yaml"];

function vpccni(args: string[]) {
  const r = Bun.spawnSync([process.execPath, "cli/main.ts", ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("--scenario rolling-restart --retry all: every agent restarts, every pod gets an IP, per strategy", () => {
  const out = makeTempDir("sim-fleet-restart");
  const r = vpccni([
    ...base,
    "--scenario",
    "rolling-restart",
    "--nodes",
    "12",
    "--pods",
    "20",
    "--max-unavailable",
    "3",
    "--restart-pause",
    "5",
    "--pod-life",
    "10",
    "--retry",
    "all",
    "--output",
    "json",
    "--out",
    out,
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.reports.map((x: { strategy: string }) => x.strategy)).toEqual([
    "naive",
    "previous",
    "jitter",
    "aws",
    "coordinator",
  ]);
  for (const report of doc.reports) {
    expect(report.scenario).toMatchObject({ kind: "rolling-restart", nodes: 12, maxUnavailable: 3, pauseMs: 5000 });
    expect(report.restartS.count).toBe(12);
    expect(report.pods.unserved).toBe(0);
    expect(report.calls.DescribeNetworkInterfaces.accepted).toBe(12);
  }
  expect(existsSync(join(out, "fleet.png"))).toBe(true);
});

test("--scenario diurnal prints the day's pods, waits and idle IPs as text", () => {
  const out = makeTempDir("sim-fleet-diurnal");
  const r = vpccni([...base, "--scenario", "diurnal", "--nodes", "3", "--pods", "30", "--trough", "3", "--out", out]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("fleet diurnal: 3 nodes, 3 to 30 pods per node over 24 h, retry jitter, seed 1");
  expect(r.stdout).toMatch(/pods with an IP: (\d+)\/\1\n/);
  expect(r.stdout).toContain("mean over time");
  expect(r.stdout).toContain(`report: ${join(out, "fleet-report.json")}`);
});

test("scenario flags: bad values and flags of another scenario are usage errors (2) naming what is allowed", () => {
  const cases: [string[], string][] = [
    [["--scenario", "nightly"], '--scenario is "nightly"; allowed: scale-out, rolling-restart, diurnal'],
    [
      ["--scenario", "rolling-restart", "--trough", "3"],
      '--trough is "3" but --scenario is rolling-restart; allowed: --trough with --scenario diurnal',
    ],
    [["--join-over", "5", "--scenario", "diurnal"], "allowed: --join-over with --scenario scale-out"],
    [
      ["--scenario", "rolling-restart", "--nodes", "4", "--max-unavailable", "5"],
      '--max-unavailable is "5"; allowed: a whole number from 1 to 4',
    ],
    [["--scenario", "diurnal", "--node-jitter", "2"], '--node-jitter is "2"; allowed: a number from 0 to 0.9'],
    [
      ["--scenario", "diurnal", "--pods", "20", "--trough", "30"],
      '--trough is "30"; allowed: a whole number from 0 to 20',
    ],
    [["--scenario", "diurnal", "--pod-life", "0"], '--pod-life is "0"; allowed: a whole number from 1 to 10080'],
  ];
  for (const [args, message] of cases) {
    const r = vpccni([...base, ...args]);
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(r.stderr).toContain(message);
  }
});
