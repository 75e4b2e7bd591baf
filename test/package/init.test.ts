// `vpccni init [DIR]` from this checkout: the layout it writes, that a fresh repository is
// consistent at once (the workflow's check passes), that it never overwrites, its usage text;
// and the one line a command prints when the npm package lacks what it needs.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { unavailable } from "../../cli/commands.ts";
import { help } from "../../cli/commands/init.ts";
import { loadPolicies } from "../../schema/index.ts";
import { run } from "../../sandbox/exec.ts";
import { REPO } from "./user-repo-kit.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-init-"));
  made.push(dir);
  return dir;
}
const vpccni = (cwd: string, ...args: string[]) => run([process.execPath, join(REPO, "cli/main.ts"), ...args], { cwd });

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("vpccni init", () => {
  test("writes the layout of docs/gitops.md and compiles the starter, so the check passes at once", async () => {
    const cwd = tempDir();
    const r = await vpccni(cwd, "init", "gitops");
    expect(r.code, r.stderr).toBe(0);
    const root = join(cwd, "gitops");
    const files = listing(root);
    for (const f of ["policies/general.yaml", "argocd/application.yaml", "flux/kustomization.yaml", "README.md"])
      expect(files).toContain(f);
    expect(files).toContain(".github/workflows/vpccni.yaml");
    expect(files).toContain("deploy/kustomization.yaml");
    expect(r.stdout).toContain("  wrote  gitops/policies/general.yaml\n");
    const check = await vpccni(root, "compile", "policies", "--out", "deploy", "--check");
    expect(check.stdout).toBe("deploy is current (22 files, 1 policy)\n");
    // The starter is valid as written, and every YAML file parses.
    const loaded = await loadPolicies(["policies"], root);
    expect(loaded.diagnostics).toEqual([]);
    for (const f of files.filter((f) => f.endsWith(".yaml")))
      expect(() => parse(readFileSync(join(root, f), "utf8"))).not.toThrow();
    // Argo CD and Flux sync the folder that compile writes.
    expect(parse(readFileSync(join(root, "argocd/application.yaml"), "utf8")).spec.source.path).toBe("deploy");
    expect(parse(readFileSync(join(root, "flux/kustomization.yaml"), "utf8")).spec.path).toBe("./deploy");
  });

  test("examples/ci is the workflow init writes, on the examples' folders", async () => {
    const root = tempDir();
    expect((await vpccni(root, "init")).code).toBe(0);
    const steps = (path: string) =>
      (parse(readFileSync(path, "utf8")) as { jobs: { check: { steps: unknown[] } } }).jobs.check.steps;
    const example = JSON.stringify(steps(join(REPO, "examples/ci/vpccni-check.yaml"))).replaceAll("examples/", "");
    expect(JSON.parse(example)).toEqual(steps(join(root, ".github/workflows/vpccni.yaml")));
  });

  test("the starter's modeline names the schema in the installed package, wherever node_modules is", async () => {
    const cwd = tempDir();
    const schema = join(cwd, "node_modules/vpccni/schema/vpccni-policy.schema.json");
    mkdirSync(join(schema, ".."), { recursive: true });
    writeFileSync(schema, "{}");
    expect((await vpccni(cwd, "init", "platform")).code).toBe(0);
    const starter = readFileSync(join(cwd, "platform/policies/general.yaml"), "utf8");
    expect(starter.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=../../node_modules/vpccni/schema/vpccni-policy.schema.json",
    );
    const fresh = tempDir();
    expect((await vpccni(fresh, "init")).code).toBe(0);
    expect(readFileSync(join(fresh, "policies/general.yaml"), "utf8")).toStartWith(
      "# yaml-language-server: $schema=../node_modules/vpccni/schema/vpccni-policy.schema.json\n",
    );
  });

  test("refuses to overwrite: one line per file in the way, exit 1, nothing written", async () => {
    const root = tempDir();
    writeFileSync(join(root, "README.md"), "ours\n");
    mkdirSync(join(root, "deploy"));
    writeFileSync(join(root, "deploy/app.yaml"), "kind: ConfigMap\n");
    const before = listing(root);
    const r = await vpccni(root, "init");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "vpccni init: README.md exists; init overwrites nothing, so nothing was written\n" +
        "vpccni init: deploy/ is not empty; init overwrites nothing, so nothing was written\n",
    );
    expect(listing(root)).toEqual(before);
    expect(readFileSync(join(root, "README.md"), "utf8")).toBe("ours\n");
  });

  test("usage: --help within 80 columns; more than one folder or an unknown option exits 2", async () => {
    expect(help.split("\n").filter((line) => line.length > 80)).toEqual([]);
    const cwd = tempDir();
    const two = await vpccni(cwd, "init", "a", "b");
    expect(two.code).toBe(2);
    expect(two.stderr).toStartWith("vpccni init: takes one folder, got 2\n\nUsage: vpccni init [DIR]");
    const bogus = await vpccni(cwd, "init", "--force");
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("Unknown option '--force'");
    expect(listing(cwd)).toEqual([]);
  });
});

describe("a command the npm package cannot run", () => {
  const missingPackage = { message: "Cannot find package 'vega' imported from /x/simulator/chart.ts" };
  const missingFile = { message: "Cannot find module '../demo/run.ts' from '/x/cli/commands/demo.ts'" };

  test("names the package it needs and where it runs", () => {
    expect(unavailable("simulate", missingPackage)).toBe(
      "vpccni simulate: needs the package vega, which the vpccni npm package does not install; run it from the vpccni image or a vpccni checkout (npm ci)\n",
    );
  });

  test("names the file the npm package leaves out, but only when installed by npm", () => {
    expect(unavailable("demo", missingFile, true)).toBe(
      "vpccni demo: not in the vpccni npm package (../demo/run.ts is left out); run it from a vpccni checkout (npm ci)\n",
    );
    // In a checkout a missing file is a bug: the stack trace stays.
    expect(unavailable("demo", missingFile, false)).toBeUndefined();
    expect(unavailable("demo", new Error("boom"), true)).toBeUndefined();
  });
});
