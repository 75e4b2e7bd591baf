import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPolicies } from "./load.ts";
import { renderDiagnostics } from "./render.ts";
import { fixtureNames, INVALID_DIR, renderFixture } from "./testdata/render-fixture.ts";
import { loadYamlText } from "./yaml-source.ts";

const ROOT = join(import.meta.dir, "..");

describe("invalid policies print their located diagnostic", () => {
  const names = fixtureNames();
  test("there are at least 40 invalid fixtures", () => {
    expect(names.length).toBeGreaterThanOrEqual(40);
  });
  for (const name of names) {
    test(name, async () => {
      const expected = readFileSync(join(INVALID_DIR, name.replace(/\.yaml$/, ".expected")), "utf8");
      const rendered = await renderFixture(name);
      expect(rendered).toBe(expected);
      // Every fixture fails with at least one error that names its file and a position.
      expect(rendered).toMatch(new RegExp(`^${name.replace(".", "\\.")}:\\d+:\\d+: error\\[[a-z-]+\\]: `));
    });
  }
});

describe("examples", () => {
  test("every example policy is valid", async () => {
    const result = await loadPolicies(["examples"], ROOT);
    expect(renderDiagnostics(result.diagnostics)).toBe("");
    expect(result.policies.map((p) => p.policy.metadata.name).sort()).toEqual(["batch", "general", "stateful"]);
  });

  test("every example YAML policy carries the yaml-language-server modeline", async () => {
    const result = await loadPolicies(["examples"], ROOT);
    for (const p of result.policies.filter((x) => x.file.endsWith(".yaml"))) {
      expect(readFileSync(join(ROOT, p.file), "utf8")).toMatch(
        /^# yaml-language-server: \$schema=\S*vpccni-policy\.schema\.json$/m,
      );
    }
  });
});

describe("TypeScript policies", () => {
  const dir = join(import.meta.dir, "testdata", "ts");
  test("a default export list gives one policy per definePolicy()", async () => {
    const result = await loadPolicies(["two.policy.ts"], dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.policies.map((p) => [p.policy.metadata.name, p.nameAt.line])).toEqual([
      ["one", 6],
      ["two", 7],
    ]);
    expect(result.policies[0]?.policy.spec.prebind).toEqual({ min: 5, max: 5 });
  });

  test("an invalid field is located on its line in the module", async () => {
    const result = await loadPolicies(["bad-prebind.policy.ts"], dir);
    expect(renderDiagnostics(result.diagnostics, result.sources)).toBe(
      [
        "bad-prebind.policy.ts:12:16: error[prebind-min-above-max]: spec.prebind.min is 12, greater than prebind.max (4); allowed: at most 4 (min <= max)",
        "   |",
        "12 |     prebind: { min: 12, max: 4 },",
        "   |                ^^^",
      ].join("\n"),
    );
  });

  test("a module that throws is a diagnostic, not a crash", async () => {
    const result = await loadPolicies(["throws.policy.ts"], dir);
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["ts-load-failed", "the module failed to load: policy generator failed: no subnets file"],
    ]);
  });
});

describe("files and folders", () => {
  test("a TypeScript policy not named *.policy.ts is reported, helpers and scripts are not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vpccni-load-"));
    try {
      mkdirSync(join(dir, "policies"));
      writeFileSync(
        join(dir, "policies", "batch.ts"),
        'import { definePolicy } from "vpccni";\nexport default definePolicy({});\n',
      );
      writeFileSync(join(dir, "policies", "names.ts"), "export const NAMES = ['a'];\n");
      writeFileSync(join(dir, "policies", "types.d.ts"), "declare const VpcCniPolicy: unknown;\n");
      const result = await loadPolicies(["policies"], dir);
      expect(result.diagnostics.map((d) => [d.file, d.code, d.severity])).toEqual([
        ["policies/batch.ts", "not-a-policy-file", "warning"],
      ]);
      expect(result.diagnostics[0]!.message).toEndWith("allowed: rename it to batch.policy.ts");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing path is reported, other paths still load", async () => {
    const result = await loadPolicies(["nope.yaml", "examples"], ROOT);
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`)).toEqual([
      "nope.yaml:1:1 file-not-found",
    ]);
    expect(result.policies).toHaveLength(3);
  });

  test("in a folder, documents of other kinds are passed over; named explicitly they are errors", () => {
    const text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
    expect(loadYamlText(text, "cm.yaml", false).diagnostics).toEqual([]);
    expect(loadYamlText(text, "cm.yaml", true).diagnostics.map((d) => d.code)).toEqual(["not-a-policy"]);
  });

  test("empty documents are allowed between policies", () => {
    const policy = readFileSync(join(ROOT, "examples/policies/general.yaml"), "utf8");
    const result = loadYamlText(`---\n${policy}---\n---\n`, "p.yaml");
    expect(result.diagnostics).toEqual([]);
    expect(result.policies).toHaveLength(1);
  });

  test("an alias bomb is refused, not expanded", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(", ")}]`,
      );
    const result = loadYamlText(`${bomb.join("\n")}\nkind: VpcCniPolicy\n`, "bomb.yaml");
    expect(result.diagnostics.map((d) => d.code)).toEqual(["yaml-syntax"]);
  });
});

describe("credentials", () => {
  test("an inline key pair is refused and its value never printed", async () => {
    const result = await loadPolicies(["inline-secret-key.yaml"], INVALID_DIR);
    const rendered = JSON.stringify(result.diagnostics);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["inline-credentials", "inline-credentials"]);
    expect(rendered).not.toContain("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
    expect(result.diagnostics[1]?.found).toBe("<redacted, 32 characters>");
    expect(rendered).toContain("credentialsSecretRef");
  });
});
