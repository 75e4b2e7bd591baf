import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { spawnManaged } from "./process.ts";

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return true;
    await Bun.sleep(100);
  }
  return !groupAlive(pgid);
}

describe("managed processes never outlive the test run", () => {
  test("stop() ends the command and reports its exit", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpccni-proc-"));
    try {
      const p = spawnManaged("sleeper", ["sleep", "1000"], { log: join(dir, "log") });
      expect(groupAlive(p.pgid)).toBe(true);
      await p.stop();
      expect(await waitGone(p.pgid, 5000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the exit code of the command is reported", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpccni-proc-"));
    try {
      const p = spawnManaged("fails", ["sh", "-c", "exit 7"], { log: join(dir, "log") });
      expect(await p.exited).toBe(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a SIGKILLed test process still takes its children with it (the leash)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpccni-proc-"));
    try {
      const script = join(dir, "runner.ts");
      await Bun.write(
        script,
        `
        import { spawnManaged } from ${JSON.stringify(join(import.meta.dir, "process.ts"))};
        const p = spawnManaged("sleeper", ["sleep", "1000"], { log: ${JSON.stringify(join(dir, "log"))} });
        console.log(p.pgid);
        await Bun.sleep(100000);
      `,
      );
      const runner = Bun.spawn([process.execPath, script], { stdout: "pipe" });
      const reader = runner.stdout.getReader();
      const first = await reader.read();
      const pgid = Number(new TextDecoder().decode(first.value).trim());
      expect(pgid).toBeGreaterThan(0);
      expect(groupAlive(pgid)).toBe(true);
      runner.kill("SIGKILL");
      await runner.exited;
      // the leash polls once a second
      expect(await waitGone(pgid, 10_000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
