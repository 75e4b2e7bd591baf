// loadPolicies() over real files and folders: which files a folder walk takes, in which order,
// and the file-level diagnostics (unsupported, too large, a TypeScript policy misnamed).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicies, noPolicyFound } from "./load.ts";
import { policyYaml } from "./policy-yaml-kit.ts";

const root = mkdtempSync(join(tmpdir(), "vpccni-load-files-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const policy = (name: string) => policyYaml(name, { pool: "after-subnets" });

function write(path: string, text: string): void {
  mkdirSync(join(root, path, ".."), { recursive: true });
  writeFileSync(join(root, path), text);
}

describe("a folder", () => {
  test("YAML (.yaml, .yml) and *.policy.ts below it, in name order; hidden entries and node_modules left out", async () => {
    write("tree/b.yaml", policy("b"));
    write("tree/a.yml", policy("a"));
    write("tree/sub/c.yaml", policy("c"));
    write("tree/.hidden.yaml", policy("hidden"));
    write("tree/.git/d.yaml", policy("dot"));
    write("tree/node_modules/pkg/e.yaml", policy("dependency"));
    write("tree/README.md", "# not a policy\n");
    const result = await loadPolicies(["tree"], root);
    expect(result.diagnostics).toEqual([]);
    expect(result.policies.map((p) => `${p.file} ${p.policy.metadata.name}`)).toEqual([
      "tree/a.yml a",
      "tree/b.yaml b",
      "tree/sub/c.yaml c",
    ]);
    expect([...result.sources.keys()]).toEqual(["tree/a.yml", "tree/b.yaml", "tree/sub/c.yaml"]);
  });

  test("a TypeScript file that names definePolicy, VpcCniPolicy or imports vpccni is reported as misnamed", async () => {
    write("ts/one.ts", "export const x = definePolicy;\n");
    write("ts/two.ts", "type T = VpcCniPolicy;\n");
    write("ts/three.ts", "import { x } from  'vpccni';\n");
    write("ts/four.ts", "import { x } from 'vpccni-extra';\n");
    write("ts/big.ts", `// definePolicy\n${"x".repeat(1 << 20)}\n`);
    const result = await loadPolicies(["ts"], root);
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.severity}[${d.code}]`)).toEqual([
      "ts/one.ts:1:1 warning[not-a-policy-file]",
      "ts/three.ts:1:1 warning[not-a-policy-file]",
      "ts/two.ts:1:1 warning[not-a-policy-file]",
    ]);
    expect(result.diagnostics[0]?.message).toBe(
      "ts/one.ts is TypeScript but not named *.policy.ts, so it is not loaded as a policy; allowed: rename it to one.policy.ts",
    );
  });
});

describe("files named on the command line", () => {
  test("neither YAML nor TypeScript: refused, naming the extensions allowed", async () => {
    write("files/p.json", "{}");
    const result = await loadPolicies(["files/p.json"], root);
    expect(result.diagnostics).toEqual([
      {
        file: "files/p.json",
        line: 1,
        col: 1,
        length: 1,
        code: "unsupported-file",
        severity: "error",
        path: [],
        message: "files/p.json is neither YAML nor TypeScript; allowed: .yaml, .yml or .ts files",
      },
    ]);
  });

  test("1 MiB is the most a policy file may hold", async () => {
    const text = policy("big");
    write("files/at.yaml", text + "#".repeat((1 << 20) - text.length - 1) + "\n");
    write("files/over.yaml", text + "#".repeat((1 << 20) - text.length) + "\n");
    const at = await loadPolicies(["files/at.yaml"], root);
    expect([at.diagnostics, at.policies.length]).toEqual([[], 1]);
    const over = await loadPolicies(["files/over.yaml"], root);
    expect(over.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["file-too-large", "files/over.yaml has 1048577 bytes; allowed: at most 1048576 bytes per policy file"],
    ]);
  });

  test("every file's diagnostics come out in one order: by file, then position", async () => {
    write("order/z.yaml", "kind: Other\n");
    write("order/a.yaml", "kind: Other\n");
    const result = await loadPolicies(["order/z.yaml", "order/a.yaml"], root);
    expect(result.diagnostics.map((d) => d.file)).toEqual(["order/a.yaml", "order/z.yaml"]);
  });

  test("nothing found at all: one diagnostic at the first path, naming them all", () => {
    expect(noPolicyFound(["a", "b"])).toEqual({
      file: "a",
      line: 1,
      col: 1,
      length: 1,
      code: "no-policies",
      severity: "error",
      path: [],
      message:
        "no policy found in a, b; allowed: YAML files (.yaml, .yml) or *.policy.ts files holding a VpcCniPolicy, or folders of them",
    });
    expect(noPolicyFound([]).file).toBe(".");
  });
});

describe("TypeScript policy files", () => {
  const ts = (spec: string) => `// a policy
import { definePolicy } from "vpccni";

export   default
  definePolicy({
    apiVersion: "vpccni.io/v1alpha1",
    kind: "VpcCniPolicy",
    metadata: { name: "tsp" },
    spec: {
      clusterId: "cls-demo0001", region: "ap-guangzhou", vpcId: "vpc-demo0001", subnets: ["subnet-pods0001"],
      ${spec}
    },
  });
`;
  test("import vpccni from anywhere; the name and the selector located in the text", async () => {
    write("tsp/a.policy.ts", ts('"nodeSelector": { pool: "a" },'));
    const result = await loadPolicies(["tsp/a.policy.ts"], root);
    expect(result.diagnostics).toEqual([]);
    expect(result.policies.map((p) => [p.policy.metadata.name, p.file, p.nameAt, p.selectorAt])).toEqual([
      [
        "tsp",
        "tsp/a.policy.ts",
        { file: "tsp/a.policy.ts", line: 8, col: 17, length: 4 },
        { file: "tsp/a.policy.ts", line: 11, col: 7, length: 12 },
      ],
    ]);
  });
  test("a field's diagnostic points at its key, after the default export, however it is spaced", async () => {
    write(
      "tsp/b.policy.ts",
      `const prebind = 1;
${ts("prebind: { min: 9, max: 2 },")}`,
    );
    const result = await loadPolicies(["tsp/b.policy.ts"], root);
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`)).toEqual([
      "tsp/b.policy.ts:12:18 prebind-min-above-max",
    ]);
  });
  test("a module without a default export is pointed at its first line", async () => {
    write("tsp/c.policy.ts", "export const policy = 1;\n");
    const result = await loadPolicies(["tsp/c.policy.ts"], root);
    expect(result.diagnostics).toEqual([
      {
        file: "tsp/c.policy.ts",
        line: 1,
        col: 1,
        length: 1,
        code: "ts-no-default-export",
        severity: "error",
        path: [],
        message: "the module has no default export; allowed: export default definePolicy({...}) or a list of them",
      },
    ]);
  });
});
