// YAML files: several documents, empty ones passed over, other kinds refused or skipped, each
// diagnostic at the line and column of its node, and `yaml`'s own errors kept short.
import { describe, expect, test } from "bun:test";
import { loadYamlText } from "./yaml-source.ts";
import { policyYaml } from "./policy-yaml-kit.ts";

const policy = (name: string, extra = "") => policyYaml(name, { extra });

const load = (text: string, strict = true) => {
  const r = loadYamlText(text, "f.yaml", strict);
  return {
    policies: r.policies.map((p) => [p.policy.metadata.name, p.file, p.nameAt, p.selectorAt]),
    diagnostics: r.diagnostics.map((d) => `${d.line}:${d.col}+${d.length} ${d.code} ${d.path.join(".")}: ${d.message}`),
  };
};
const at = (line: number, col: number, length: number) => ({ file: "f.yaml", line, col, length });
const NOT_A_POLICY = "allowed: apiVersion: vpccni.io/v1alpha1 with kind: VpcCniPolicy";

describe("documents of a YAML file", () => {
  test("empty documents (nothing, a comment, ~) are passed over; positions count from the top of the file", () => {
    expect(load(`---\n# only a comment\n---\n~\n---\n${policy("a")}`)).toEqual({
      policies: [["a", "f.yaml", at(8, 19, 1), at(9, 1, 4)]], // no nodeSelector: the spec key
      diagnostics: [],
    });
    expect(load(policy("d", "  nodeSelector:\n    pool: x\n")).policies[0]?.[3]).toEqual(at(9, 3, 12));
  });

  test("another kind is refused in a file named on the command line, passed over in a folder", () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n---\n${policy("b")}`;
    expect(load(text)).toEqual({
      policies: [["b", "f.yaml", at(7, 19, 1), at(8, 1, 4)]],
      diagnostics: [`2:7+9 not-a-policy kind: this document is not a policy (kind is "ConfigMap"); ${NOT_A_POLICY}`],
    });
    expect(load(text, false).diagnostics).toEqual([]);
  });

  test("a scalar or a list is not a policy; without a kind the document itself is pointed at", () => {
    expect(load("hello\n---\n- a\n- b\n").diagnostics).toEqual([
      `1:1+5 not-a-policy kind: this document is not a policy (kind is null); ${NOT_A_POLICY}`,
      `3:1+3 not-a-policy kind: this document is not a policy (kind is null); ${NOT_A_POLICY}`,
    ]);
  });

  test("our API group with a wrong version or kind is ours: validated, every mistake reported", () => {
    expect(load("apiVersion: vpccni.io/v2\nkind: Other\n").diagnostics).toEqual([
      '1:13+12 invalid-value apiVersion: apiVersion is "vpccni.io/v2"; allowed: "vpccni.io/v1alpha1"',
      '2:7+5 invalid-value kind: kind is "Other"; allowed: "VpcCniPolicy"',
      "1:1+24 missing-field metadata: metadata is required (Name and labels of the policy); allowed: a mapping of fields",
      "1:1+24 missing-field spec: spec is required (What the policy's nodes do: subnets, IP mode, warm pool, cloud access, data plane); allowed: a mapping of fields",
    ]);
  });

  test("a syntax error costs its own document only, and only its first line is printed", () => {
    expect(load(`${policy("c")}---\nkey: [unclosed\nmore: x\n`)).toEqual({
      policies: [["c", "f.yaml", at(3, 19, 1), at(4, 1, 4)]],
      diagnostics: [
        "11:1+1 yaml-syntax : Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    });
  });

  test("an alias bomb is refused, not expanded", () => {
    const bomb = [
      "a: &a [1,1,1,1,1,1,1,1,1,1]",
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "kind: VpcCniPolicy",
    ].join("\n");
    expect(load(bomb).diagnostics).toEqual([
      "1:1+27 yaml-syntax : Excessive alias count indicates a resource exhaustion attack",
    ]);
  });

  test("a diagnostic points at the value, or at the key of a missing field; its length stops at the line's end", () => {
    const text = policy("e", "  subnets:\n    - subnet-pods0001\n  limits:\n    ipsPerEni: x\n").replace(
      "  subnets: [subnet-pods0001]\n",
      "",
    );
    expect(load(text).diagnostics).toEqual([
      '11:16+1 invalid-type spec.limits.ipsPerEni: spec.limits.ipsPerEni must be an integer, found "x"',
    ]);
    const list = policy("g").replace("subnets: [subnet-pods0001]", "subnets:\n    - subnet-pods0001\n    - x");
    expect(load(list).diagnostics[0]).toStartWith("10:7+1 invalid-format spec.subnets.1:");
    const block = policy("h", "  prebind:\n    min: 1\n    max: 0\n");
    expect(load(block).diagnostics).toEqual([
      "10:10+1 prebind-min-above-max spec.prebind.min: spec.prebind.min is 1, greater than prebind.max (0); allowed: at most 0 (min <= max)",
    ]);
    const missing = policy("i").replace("  vpcId: vpc-demo0001\n", "");
    expect(load(missing).diagnostics[0]).toStartWith("4:1+4 missing-field spec.vpcId:");
  });
});
