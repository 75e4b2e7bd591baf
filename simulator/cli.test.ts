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

test("vpccni simulate --fleet --json runs a small scale-out per strategy and writes the chart", () => {
  const out = makeTempDir("sim-fleet-cli");
  const r = vpccni([
    "simulate",
    "--fleet",
    "--policy",
    "examples/policies/general.yaml",
    "--nodes",
    "20",
    "--pods",
    "10",
    "--retry",
    "all",
    "--rate",
    "DescribeVpcTaskResult=5",
    "--json",
    "--out",
    out,
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.stdout);
  expect(doc.version).toBe("vpccni-fleet-report/1");
  expect(doc.reports.map((x: { strategy: string }) => x.strategy)).toEqual([
    "naive",
    "previous",
    "jitter",
    "aws",
    "coordinator",
  ]);
  for (const report of doc.reports) expect(report.pods).toEqual({ asked: 200, served: 200, unserved: 0 });
  expect(doc.files.png).toBe(join(out, "fleet.png"));
});

test("vpccni simulate --fleet: bad values are usage errors (2) naming the value and what is allowed", () => {
  const base = ["simulate", "--fleet", "--policy", "examples/policies/general.yaml"];
  const cases: [string[], string][] = [
    [["--nodes", "0"], '--nodes is "0"; allowed: a whole number from 1 to 100000'],
    [["--retry", "hard"], '--retry is "hard"; allowed: naive, previous, jitter, aws, coordinator, all'],
    [["--node-quota", "3"], '--node-quota is "3"; allowed: ENIS:IPS, both >= 1, e.g. 3:20'],
    [["--rate", "Attach=5"], '--rate is "Attach=5"; allowed: ACTION=N with ACTION one of AssignPrivateIpAddresses'],
  ];
  for (const [args, message] of cases) {
    const r = vpccni([...base, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`vpccni simulate: ${message}`);
  }
  const r = vpccni(["simulate", "--fleet"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("vpccni simulate: --fleet needs --policy");
});
