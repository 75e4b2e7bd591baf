// `npx vpccni` is a Node launcher for Bun: it must pass SIGTERM and SIGINT on, so that a CI
// script that kills it does not leave Bun (an emulator, say) running, and exit with Bun's status.
import { expect, test } from "bun:test";
import { join } from "node:path";

const BIN = join(import.meta.dir, "bin.cjs");

function children(pid: number): number[] {
  const r = Bun.spawnSync(["pgrep", "-P", String(pid)]);
  return new TextDecoder().decode(r.stdout).split("\n").filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`${signal} to the launcher reaches Bun: both exit, with Bun's status`, async () => {
    const node = Bun.which("node");
    expect(node, "node is on PATH").not.toBeNull();
    const launcher = Bun.spawn([node!, BIN, "emulator", "--port", "0"], { stdout: "pipe", stderr: "pipe" });
    const reader = launcher.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("vpccni emulator listening on");
    const [bun] = children(launcher.pid);
    expect(bun).toBeDefined();
    launcher.kill(signal);
    const code = await launcher.exited;
    // the emulator stops cleanly on either signal
    expect(code).toBe(0);
    for (let i = 0; i < 100 && alive(bun!); i++) await Bun.sleep(50);
    expect(alive(bun!)).toBe(false);
  }, 30_000);
}
