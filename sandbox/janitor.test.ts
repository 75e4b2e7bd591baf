import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listNamespaces } from "./test-bed.ts";
import { requireNetns } from "./prereq.ts";

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} after ${ms} ms`);
    await Bun.sleep(100);
  }
}

describe("the janitor cleans up after a test process that died without teardown", () => {
  test("SIGKILL of a process holding a test bed and a CNI directory leaves neither", async () => {
    requireNetns();
    const dir = mkdtempSync(join(tmpdir(), "vpccni-janitor-test-"));
    try {
      const script = join(dir, "victim.ts");
      await Bun.write(
        script,
        `
        import { createTestBed } from ${JSON.stringify(join(import.meta.dir, "test-bed.ts"))};
        import { makeCniDirs } from ${JSON.stringify(join(import.meta.dir, "cnitool.ts"))};
        const bed = await createTestBed();
        await bed.addNode();
        const dirs = makeCniDirs();
        console.log(JSON.stringify({ id: bed.id, root: dirs.root }));
        await Bun.sleep(100000);
      `,
      );
      const victim = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
      const first = await victim.stdout.getReader().read();
      const { id, root } = JSON.parse(new TextDecoder().decode(first.value)) as { id: string; root: string };
      expect(listNamespaces().filter((n) => n.startsWith(id))).toHaveLength(2);
      expect(existsSync(root)).toBe(true);
      victim.kill("SIGKILL");
      await victim.exited;
      // the janitor polls once a second
      await until("namespaces still there", 10_000, () => listNamespaces().every((n) => !n.startsWith(id)));
      await until("CNI directory still there", 10_000, () => !existsSync(root));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
