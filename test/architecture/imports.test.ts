// The layout rules of docs/architecture.md (and DESIGN's import rules), checked on the real
// import graph: which part may import which, which packages each part may load, that product
// code never reaches into tests, and that the pure engines do no I/O.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { edgesOf, isTestCode, packageOf, REPO, sourceFiles, type Edge } from "./import-graph-kit.ts";

interface Rule {
  /** Parts of the repository this part may import (run-time imports). */
  parts: string[];
  /** Parts it may import only with `import type` (erased at run time). */
  typeParts?: string[];
  /** Packages it may load at run time; "node:*" allows every Node built-in. */
  packages: string[];
  typePackages?: string[];
}

const NODE = "node:*";
const RUNTIME = [
  "runtime/agent",
  "runtime/cloud",
  "runtime/cni",
  "runtime/controller",
  "runtime/fixed",
  "runtime/kube",
  "runtime/net",
  "runtime/pool",
];

/** Product code (tests excluded). The part of a file is its top folder, or runtime/<part>. */
export const RULES: Record<string, Rule> = {
  schema: { parts: [], packages: ["yaml", "zod", NODE] },
  compiler: {
    parts: ["schema", "package.json"],
    packages: ["cdk8s", "constructs", "yaml", "zod", NODE],
    typePackages: ["@kubernetes/client-node"],
  },
  // Pure: schema types, and the schema's own pure duration parser.
  "runtime/pool": { parts: ["schema/duration.ts"], typeParts: ["schema"], packages: [] },
  "runtime/fixed": { parts: ["schema/duration.ts"], typeParts: ["schema"], packages: [] },
  "runtime/cloud": { parts: ["schema"], packages: ["tencentcloud-sdk-nodejs", NODE] },
  "runtime/net": { parts: ["schema"], packages: ["bun:ffi", NODE] },
  "runtime/kube": { parts: ["schema"], packages: ["@kubernetes/client-node", NODE] },
  // The CNI plugin starts once per pod: nothing heavy (no SDK, client-node, SQLite, metrics).
  "runtime/cni": { parts: ["schema"], packages: ["zod", NODE] },
  "runtime/agent": { parts: [...RUNTIME, "schema"], packages: ["bun:sqlite", "prom-client", NODE] },
  "runtime/controller": { parts: [...RUNTIME, "schema"], packages: ["bun:sqlite", "prom-client", NODE] },
  // Written from the API docs, independent of the client it tests.
  emulator: { parts: [], packages: ["yaml", "zod", NODE] },
  simulator: { parts: ["runtime/pool", "schema"], packages: ["vega", "vega-lite", "@resvg/resvg-js", "zod", NODE] },
  sandbox: { parts: ["emulator", ...RUNTIME, "compiler", "schema"], packages: ["yaml", NODE] },
  cli: {
    parts: ["schema", "compiler", ...RUNTIME, "emulator", "simulator", "sandbox", "package.json"],
    packages: ["*"],
  },
  bench: { parts: ["schema", "compiler", ...RUNTIME, "emulator", "simulator", "sandbox", "cli"], packages: ["*"] },
  // Policies import the package's public entry by name ("vpccni"), as a user's repository does.
  examples: { parts: ["schema", "simulator", "runtime/pool"], packages: ["vpccni", NODE] },
};

/** The package's public entry (`import ... from "vpccni"`): the policy types and definePolicy only. */
const PUBLIC_ENTRY = "schema/public.ts";
const PUBLIC_CLOSURE = ["schema/duration.ts", "schema/endpoint.ts", "schema/policy.ts", "schema/public.ts"];

function partOf(path: string): string {
  const [top, second] = path.split("/");
  return top === "runtime" && second !== undefined ? `runtime/${second}` : (top ?? path);
}

function allowed(list: string[] | undefined, name: string): boolean {
  return (list ?? []).some((p) => p === "*" || p === name || (p === NODE && name.startsWith("node:")));
}

function where(e: Edge): string {
  return `${e.from}:${e.line} imports ${e.to}${e.typeOnly ? " (type)" : ""}`;
}

const files = sourceFiles();
const edges = files.flatMap((f) => edgesOf(f));
const product = edges.filter((e) => !isTestCode(e.from));

describe("import rules (docs/architecture.md)", () => {
  test("every product file belongs to a part with rules", () => {
    const unknown = [...new Set(files.filter((f) => !isTestCode(f)).map(partOf))].filter((p) => RULES[p] === undefined);
    expect(unknown, "add the part to RULES and to docs/architecture.md").toEqual([]);
  });

  test("each part imports only the parts and packages it may", () => {
    const bad = product.filter((e) => {
      const rule = RULES[partOf(e.from)];
      if (!rule) return false;
      if (e.relative) {
        const to = partOf(e.to);
        const may = allowed(rule.parts, to) || allowed(rule.parts, e.to);
        return to !== partOf(e.from) && !may && !(e.typeOnly && allowed(rule.typeParts, to));
      }
      const pkg = packageOf(e.to);
      return !allowed(rule.packages, pkg) && !(e.typeOnly && allowed(rule.typePackages, pkg));
    });
    expect(bad.map(where)).toEqual([]);
  });

  test("product code never imports tests or test helpers", () => {
    const bad = product.filter((e) => e.relative && isTestCode(e.to));
    expect(bad.map(where)).toEqual([]);
  });

  test("runtime/ imports the emulator and the sandbox only from tests", () => {
    const bad = product.filter(
      (e) => e.from.startsWith("runtime/") && e.relative && /^(emulator|sandbox|simulator|test)\//.test(e.to),
    );
    expect(bad.map(where)).toEqual([]);
  });

  test("the emulator knows nothing of the runtime, tests included", () => {
    const bad = edges.filter((e) => e.from.startsWith("emulator/") && e.relative && !e.to.startsWith("emulator/"));
    expect(bad.map(where)).toEqual([]);
  });

  test("the pure engines take time and randomness as inputs", () => {
    const impure =
      /\b(Date\.now|Math\.random|performance\.now|setTimeout|setInterval|Bun\.(spawn|file|write|sleep)|fetch)\s*\(/;
    const bad: string[] = [];
    for (const f of files.filter((f) => /^runtime\/(pool|fixed)\//.test(f) && !isTestCode(f))) {
      readFileSync(join(REPO, f), "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (impure.test(line.replace(/\/\/.*$/, ""))) bad.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(bad).toEqual([]);
  });

  test("test helpers follow one naming pattern", () => {
    // Under test/: suites (*.test.ts), helpers (*-kit.ts), scripts run by suites (*-probe.ts).
    const misnamed = files.filter((f) => f.startsWith("test/") && !/(\.test|-kit|-probe)\.ts$/.test(f));
    // Anywhere: a file that imports bun:test is a suite or a helper, and is named so.
    const hidden = edges.filter((e) => e.to === "bun:test" && !isTestCode(e.from)).map((e) => e.from);
    expect([...misnamed, ...hidden]).toEqual([]);
  });

  test("the public entry loads nothing of the runtime, and policies import it by name", () => {
    const seen = new Set<string>();
    const queue = [PUBLIC_ENTRY];
    for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      queue.push(
        ...edgesOf(file)
          .filter((e) => e.relative && !e.typeOnly)
          .map((e) => e.to),
      );
    }
    expect([...seen].sort()).toEqual(PUBLIC_CLOSURE);
    const relativeInPolicies = edges.filter((e) => /^examples\/.*\.policy\.ts$/.test(e.from) && e.relative);
    expect(relativeInPolicies.map(where)).toEqual([]);
  });

  test("the rules above are the ones docs/architecture.md states", () => {
    const doc = readFileSync(join(REPO, "docs/architecture.md"), "utf8");
    const missing = Object.keys(RULES).filter((part) => !doc.includes(`\`${part}/\``));
    expect(missing).toEqual([]);
  });

  test("the graph reader sees every kind of import", () => {
    const text =
      'import type { A } from "./a.ts";\nimport { b } from "../../schema/b.ts";\nexport { c } from "zod";\nimport "./side.ts";\nconst d = await import("../../emulator/index.ts");\n';
    const found = edgesOf("runtime/pool/x.ts", text).map((e) => `${e.to}${e.typeOnly ? ":type" : ""}`);
    expect(found.sort()).toEqual([
      "emulator/index.ts",
      "runtime/pool/a.ts:type",
      "runtime/pool/side.ts",
      "schema/b.ts",
      "zod",
    ]);
  });
});
