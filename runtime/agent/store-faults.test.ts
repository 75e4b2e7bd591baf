// The store on a real file system that fills up and goes read-only: a 512 KiB tmpfs in a
// private mount namespace (nothing of the host's is touched), with the store and the driver
// in a child process there (store-faults-kit.ts). Needs root and unshare; never skipped.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requirePrereq, requireRoot } from "../../sandbox/prereq.ts";
import type { FaultReport } from "./store-faults-kit.ts";

const KIT = join(import.meta.dir, "store-faults-kit.ts");

async function inSmallTmpfs(): Promise<FaultReport> {
  requireRoot();
  requirePrereq("unshare", () => Bun.which("unshare") !== null || "unshare is not on PATH");
  const dir = mkdtempSync(join(tmpdir(), "vpccni-disk-"));
  try {
    const script = `mount -t tmpfs -o size=512k,mode=0700 vpccni-test "$1" && exec "$2" "$3" "$1"`;
    const child = Bun.spawn(
      ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", dir, process.execPath, KIT],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = [await child.stdout.text(), await child.stderr.text(), await child.exited];
    if (code !== 0) throw new Error(`the child in its mount namespace failed (${code}): ${err}`);
    return JSON.parse(out) as FaultReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("state database on a faulty disk", () => {
  test("full, then freed, then read-only: clear errors, nothing half-applied, never corrupted", async () => {
    const r = await inSmallTmpfs();
    const failed = r.adds.filter((a) => a.error !== undefined);
    // The disk filled during the burst: an ADD failed, naming the database and the cause.
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]?.error).toMatch(
      /^the state database \/.*\/state\/node\.db cannot be written: no space left on the device holding \/.*\/state$/,
    );
    // No IP was handed out twice, none without its record; memory did not run ahead of the disk.
    const ips = r.adds.flatMap((a) => (a.ip ? [a.ip] : []));
    expect(new Set(ips).size).toBe(ips.length);
    expect(r.podsWithoutRecord).toEqual([]);
    expect(r.memoryIsDisk).toBe(true);
    expect(r.integrityWhileFull).toBe("ok");
    // Space freed: the store takes writes again, an ADD works.
    expect(r.faultAfterFree).toBeNull();
    expect(r.addAfterFree).toMatch(/^172\.16\./);
    expect(ips).not.toContain(r.addAfterFree);
    expect(r.memoryIsDiskAfterFree).toBe(true);
    // Read-only: opening says so in one line; read-write again: intact, the last committed state.
    expect(r.readOnlyOpen).toMatch(
      /^StoreFaultError: the state database \/.*\/node\.db cannot be written: read-only file system at \/.*\/state$/,
    );
    expect(r.integrityAfter).toBe("ok");
    expect(r.contentAfterIsLast).toBe(true);
  }, 60_000);
});
