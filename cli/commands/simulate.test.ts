// `vpccni simulate` exit codes and --output: the report itself is tested in simulator/.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";

const ROOT = join(import.meta.dir, "..", "..");
const simulate = (...args: string[]) =>
  run([process.execPath, "cli/main.ts", "simulate", "--policy", "examples/policies/general.yaml", ...args], {
    cwd: ROOT,
  });

test("--output json is --json; a trace that cannot be read exits 1; --output text --json exits 2", async () => {
  const out = makeTempDir("simulate-cli");
  const trace = ["--trace", "examples/traces/steady.jsonl", "--out", out];
  const viaOutput = await simulate(...trace, "--output", "json");
  expect(viaOutput.code).toBe(0);
  const report = JSON.parse(viaOutput.stdout);
  expect(Object.keys(report.reports)).toEqual(["vpccni"]);
  expect(await simulate(...trace, "--json")).toEqual(viaOutput);
  const missing = await simulate("--trace", join(out, "none.jsonl"), "--out", out);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toStartWith("vpccni simulate: ");
  const both = await simulate(...trace, "--output", "text", "--json");
  expect({ code: both.code, stderr: both.stderr }).toEqual({
    code: 2,
    stderr: "vpccni simulate: --output text and --json ask for different formats; allowed: one of them\n",
  });
}, 60_000);
