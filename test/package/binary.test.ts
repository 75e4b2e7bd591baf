// The compiled single binary (bun build --compile, as in the image) loads TypeScript policies
// that import "vpccni", in a folder with no node_modules at all: it answers that import itself.
// It compiles the examples to exactly the committed examples/deploy.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { REPO } from "./user-repo-kit.ts";

const dir = mkdtempSync(join(tmpdir(), "vpccni-binary-"));
const binary = join(dir, "vpccni");
const work = join(dir, "gitops");

beforeAll(async () => {
  const built = await run(
    [process.execPath, "build", "--compile", "cli/main.ts", "--outfile", binary, "--no-compile-autoload-bunfig"],
    { cwd: REPO },
  );
  if (built.code !== 0) throw new Error(`bun build --compile failed:\n${built.stderr}`);
  cpSync(join(REPO, "examples/policies"), join(work, "policies"), { recursive: true });
  cpSync(join(REPO, "examples/deploy"), join(work, "deploy"), { recursive: true });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("validates a TypeScript policy without node_modules", async () => {
  const r = await run([binary, "validate", "policies"], { cwd: work });
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
    code: 0,
    stdout: "3 policies in 3 files: 0 errors\n",
    stderr: "",
  });
});

test("compiles the examples to the committed examples/deploy", async () => {
  const r = await run([binary, "compile", "policies", "--out", "deploy", "--check"], { cwd: work });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  expect(r.stdout).toMatch(/^deploy is current \(\d+ files, 3 policies\)\n$/);
});
