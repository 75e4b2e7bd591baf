// The README's first command on a fresh machine: Debian 12 minbase with only Node.js and npm,
// as root, an empty cache, no iproute2 (scripts/fresh-machine.sh). The demo must install what
// it needs itself, say so, and finish with TCP across nodes.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { requirePrereq, requireRoot } from "../../sandbox/prereq.ts";

const ROOT = join(import.meta.dir, "../..");

test("npm ci && npx vpccni demo works on a fresh Debian machine with only Node.js and npm", async () => {
  requireRoot();
  for (const tool of ["mmdebstrap", "unshare", "chroot"]) {
    requirePrereq(tool, () => Bun.which(tool) !== null || `\`${tool}\` is not on PATH`);
  }
  const r = await run(["bash", join(ROOT, "scripts/fresh-machine.sh")], { cwd: ROOT });
  const out = r.stdout + r.stderr;
  expect(r.code, out).toBe(0);
  expect(out).toContain("fresh machine: Debian GNU/Linux 12");
  expect(out).toContain("installing iproute2 with apt-get (ip: network namespaces, veths, routes and rules)");
  expect(out).toMatch(/TCP 10\.231\.\d+\.\d+ \(node1\) -> 10\.231\.\d+\.\d+ \(node2\): ok/);
  expect(out).not.toMatch(/\n\s+at .*\.ts:\d+/);
}, 300_000);
