import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { POLICY_DOC_FILE, policyReference } from "./docs.ts";
import { JSON_SCHEMA_FILE, policyJsonSchemaText } from "./json-schema.ts";

const ROOT = join(import.meta.dir, "..");
const REFRESH =
  "refresh with: bun cli/main.ts schema > schema/vpccni-policy.schema.json && bun cli/main.ts schema --format markdown > docs/policy.md";

describe("checked-in generated files are current", () => {
  test(JSON_SCHEMA_FILE, () => {
    expect(readFileSync(join(ROOT, JSON_SCHEMA_FILE), "utf8"), REFRESH).toBe(policyJsonSchemaText());
  });
  test(POLICY_DOC_FILE, () => {
    expect(readFileSync(join(ROOT, POLICY_DOC_FILE), "utf8"), REFRESH).toBe(policyReference());
  });
  test("every field of the schema has a description", () => {
    const missing: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, child] of Object.entries(props)) {
        if (typeof child.description !== "string" && child.const === undefined) missing.push(`${path}${name}`);
        walk(child, `${path}${name}.`);
      }
    };
    const schema = JSON.parse(policyJsonSchemaText()) as { $defs: { VpcCniPolicy: Record<string, unknown> } };
    walk(schema.$defs.VpcCniPolicy, "");
    expect(missing).toEqual([]);
  });
});
