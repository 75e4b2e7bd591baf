// Helpers for the compiler's tests: a scratch repository with policies and an output folder.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach } from "bun:test";

export const REPO = resolve(import.meta.dir, "..");
export const EXAMPLES = join(REPO, "examples", "policies");

const scratch: string[] = [];

/**
 * Call at the top of each test file that makes scratch folders: removes them after each test.
 * (A hook registered in this module would bind only to the first test file that imports it.)
 */
export function cleanScratchAfterEach(): void {
  afterEach(() => {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

/** A temporary folder, removed after the test (see cleanScratchAfterEach). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-compiler-"));
  scratch.push(dir);
  return dir;
}

/** A scratch repo: `policies/` holding the given files (or a copy of the examples). */
export function scratchRepo(files?: Record<string, string>): string {
  const dir = tempDir();
  mkdirSync(join(dir, "policies"));
  if (files === undefined) {
    cpSync(EXAMPLES, join(dir, "policies"), { recursive: true });
    // TypeScript policies import the schema relative to the repository: point them back at it.
    for (const f of readdirSync(join(dir, "policies")).filter((n) => n.endsWith(".ts"))) {
      const path = join(dir, "policies", f);
      writeFileSync(
        path,
        readFileSync(path, "utf8").replaceAll("../../schema/index.ts", join(REPO, "schema", "index.ts")),
      );
    }
  } else
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "policies", name), text, { flag: "w" });
  return dir;
}

export function readTree(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), "utf8")]),
  );
}

/** A shared-mode YAML policy; `extra` lines are appended under spec. */
export function policyYaml(name: string, selector: string, extra: string[] = [], clusterId = "cls-test0001"): string {
  return [
    "apiVersion: vpccni.io/v1alpha1",
    "kind: VpcCniPolicy",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    `  clusterId: ${clusterId}`,
    "  region: ap-guangzhou",
    "  vpcId: vpc-test0001",
    "  subnets: [subnet-test0001]",
    "  nodeSelector:",
    `    node.vpccni.io/pool: ${selector}`,
    ...extra.map((l) => `  ${l}`),
    "",
  ].join("\n");
}
