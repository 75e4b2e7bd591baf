// `vpccni demo` without root: it says why, then runs what needs no root (compile, simulate).
// The test drops to the `nobody` user with setpriv (util-linux), as a user without root would run it.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { requireBinary } from "../../sandbox/prereq.ts";

const ROOT = join(import.meta.dir, "../..");

test("without root the demo explains why and runs the compiler and the simulator", async () => {
  const setpriv = Bun.which("setpriv") ?? "";
  requireBinary("setpriv (util-linux)", setpriv);
  const proc = Bun.spawn(
    [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, join(ROOT, "cli/main.ts"), "demo"],
    {
      cwd: ROOT,
      env: { ...process.env, HOME: "/tmp" },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = [
    await new Response(proc.stdout).text(),
    await new Response(proc.stderr).text(),
    await proc.exited,
  ];
  expect(code, err).toBe(0);
  expect(out).toContain("vpccni demo needs root to create network namespaces");
  expect(out).toMatch(/3 policies in examples\/policies -> \d+ manifests/);
  expect(out).toMatch(/calls \/ lower bound\s+[\d.]+x\s+[\d.]+x/);
  const charts = /charts in (\S+)/.exec(out)?.[1] ?? "";
  expect(await Bun.file(join(charts, "chart.png")).exists()).toBe(true);
  await Bun.$`rm -rf ${charts}`;
}, 60_000);
