// Where a field of a loaded policy is written, for the compiler's diagnostics: within the
// policy's own document, key by key; a field left to its default at its nearest written parent.
import { describe, expect, test } from "bun:test";
import type { SourcedPolicy } from "../schema/index.ts";
import { loadYamlText } from "../schema/yaml-source.ts";
import { locateField } from "./locate.ts";
import { policyYaml } from "../schema/policy-yaml-kit.ts";

const doc = (name: string, spec = "") => policyYaml(name, { pool: "before-subnets", extra: spec });

function loaded(text: string, file = "p.yaml") {
  const r = loadYamlText(text, file);
  expect(r.diagnostics).toEqual([]);
  return { policies: r.policies, sources: new Map([[file, text]]) };
}
const where = (p: SourcedPolicy, sources: Map<string, string>, path: string[]) => {
  const l = locateField(p, sources, path);
  return `${l.file}:${l.line}:${l.col}+${l.length}`;
};

describe("locateField", () => {
  test("key by key within the policy's own YAML document, not the one before or after it", () => {
    const text = `${doc("a", "  prebind:\n    min: 2\n")}---\n${doc("b", "  prebind:\n    max: 9\n    min: 3\n")}---\n${doc("c", "  prebind: { min: 1 }\n")}`;
    const { policies, sources } = loaded(text);
    const [a, b, c] = policies as [SourcedPolicy, SourcedPolicy, SourcedPolicy];
    expect(where(a, sources, ["spec", "prebind", "min"])).toBe("p.yaml:11:5+3");
    expect(where(b, sources, ["spec", "prebind", "min"])).toBe("p.yaml:24:5+3");
    expect(where(c, sources, ["spec", "prebind"])).toBe("p.yaml:35:3+7");
    // not written in b: its parent, not a's or c's
    expect(where(b, sources, ["spec", "ipMode"])).toBe("p.yaml:16:1+4");
    expect(where(b, sources, ["nope"])).toBe("p.yaml:15:19+1"); // nothing written: metadata.name
  });

  test("keys are matched whole, quoted or not, and list items are looked through", () => {
    const text = doc("q", '  "prebind":\n    "min": 2\n  limits:\n    - x\n    - ipsPerEni: 3\n').replace(
      "spec:\n",
      "spec:\n  prebindx: 1\n",
    );
    const sources = new Map([["q.yaml", text]]);
    const p = { file: "q.yaml", nameAt: { file: "q.yaml", line: 3, col: 19, length: 1 } } as SourcedPolicy;
    expect(where(p, sources, ["spec", "prebind", "min"])).toBe("q.yaml:12:5+3");
    expect(where(p, sources, ["spec", "limits", "ipsPerEni"])).toBe("q.yaml:15:7+9");
  });

  test("TypeScript: from the policy's definePolicy( call to the next, keys also inside braces on one line", () => {
    const text = [
      'import { definePolicy } from "vpccni";',
      "const base = { ipMode: 'shared' };",
      "export default [",
      '  definePolicy({ metadata: { name: "one" }, spec: {',
      '    ipMode: "fixed" } }),',
      "  definePolicy({",
      '    metadata: { name: "two" },',
      '    spec: { ipMode: "fixed" },',
      "  }),",
      "];",
    ].join("\n");
    const sources = new Map([["p.policy.ts", text]]);
    const at = (line: number) =>
      ({ file: "p.policy.ts", nameAt: { file: "p.policy.ts", line, col: 1, length: 3 } }) as SourcedPolicy;
    expect(where(at(4), sources, ["spec", "ipMode"])).toBe("p.policy.ts:5:5+6");
    expect(where(at(4), sources, ["spec"])).toBe("p.policy.ts:4:45+4");
    expect(where(at(7), sources, ["spec"])).toBe("p.policy.ts:8:5+4");
    expect(where(at(7), sources, ["metadata"])).toBe("p.policy.ts:7:5+8"); // not policy one's
  });

  test("without the file's text: metadata.name as the loader found it", () => {
    const p = { file: "gone.yaml", nameAt: { file: "gone.yaml", line: 3, col: 19, length: 1 } } as SourcedPolicy;
    expect(locateField(p, new Map(), ["spec"])).toEqual(p.nameAt);
  });
});
