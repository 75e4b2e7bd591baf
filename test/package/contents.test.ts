// What `npm pack` puts in the tarball, and what the package makes npm install: everything the
// commands of a GitOps repository load, and nothing a user does not need (tests, benches,
// fixtures, examples, the demo's test bed); dependencies only of those commands.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { edgesOf, packageOf } from "../architecture/import-graph-kit.ts";
import { type Packed, pack, REPO, requireNodeNpmGit } from "./user-repo-kit.ts";

/** The commands that run from the npm package with its own dependencies. */
const PACKAGE_COMMANDS = ["init", "validate", "compile", "plan", "schema", "status", "emulator"];
/** Packages those commands load only for an option; the command names them when missing. */
const OPTIONAL = { "tencentcloud-sdk-nodejs": "plan --cloud" };
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  private: boolean;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Every repository file that `from` loads at run time, and every package it names. */
function closure(from: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...from];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith(".ts") || !existsSync(join(REPO, file))) continue;
    for (const e of edgesOf(file)) {
      if (e.typeOnly) continue;
      if (e.relative) queue.push(e.to);
      else if (!/^(node|bun):/.test(e.to) && e.to !== "bun") packages.add(packageOf(e.to));
    }
  }
  return { files, packages };
}

function manifest(name: string): { peerDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(REPO, "node_modules", name, "package.json"), "utf8"));
}

describe("the npm package", () => {
  let packed: Packed;
  beforeAll(async () => {
    requireNodeNpmGit();
    packed = await pack(REPO, true);
  }, 60_000);

  test("holds no tests, benches, fixtures, examples, docs, scripts or the demo", () => {
    const unwanted = packed.files.filter(
      (f) =>
        /^(test|bench|examples|docs|scripts|sandbox|dist|node_modules|cli\/demo)\//.test(f) ||
        /(\.test|-kit|-probe)\.ts$/.test(f) ||
        f.includes("/testdata/") ||
        f.includes("tsconfig"),
    );
    expect(unwanted).toEqual([]);
  });

  test("holds every file the GitOps commands load, the public entry, its declarations and the schema", () => {
    const { files } = closure(PACKAGE_COMMANDS.map((c) => `cli/commands/${c}.ts`));
    const needed = [
      ...files,
      // The shell (its table imports every command lazily, so it is not followed here).
      "cli/main.ts",
      "cli/commands.ts",
      "package.json",
      "cli/bin.cjs",
      "schema/public.ts",
      "schema/types/public.d.ts",
      "schema/vpccni-policy.schema.json",
      "README.md",
    ];
    expect(needed.filter((f) => !packed.files.includes(f)).sort()).toEqual([]);
    expect(packed.files).toContain(pkg.bin.vpccni!);
  });

  test("installs only the packages those commands load, and Bun to run them", () => {
    const { packages } = closure(PACKAGE_COMMANDS.map((c) => `cli/commands/${c}.ts`));
    const loaded = [...packages].filter((p) => !(p in OPTIONAL));
    // A peer dependency (cdk8s's constructs) is pinned beside the package that wants it.
    const peers = loaded.flatMap((p) => Object.keys(manifest(p).peerDependencies ?? {}));
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...new Set(["bun", ...loaded, ...peers])].sort());
    for (const p of Object.keys(OPTIONAL)) expect(pkg.devDependencies[p], p).toBeDefined();
  });

  test("is private: it is installed from a tarball or a git URL, never published by accident", () => {
    // The name vpccni on the public registry is someone else's package.
    expect(pkg.private).toBe(true);
  });
});
