// `vpccni validate --subnets FILE --zones ...`: each policy needs a subnet in every zone its
// nodes run in; a subnet missing from the file has no known zone. Warnings, at spec.subnets.
import { describe, expect, test } from "bun:test";
import { loadYamlText } from "../../schema/yaml-source.ts";
import { zoneDiagnostics } from "./zone-check.ts";
import { policyYaml } from "../../schema/policy-yaml-kit.ts";

const policy = (name: string, subnets: string[]) => policyYaml(name, { pool: "before-subnets", subnets });

const SUBNETS = [
  { subnetId: "subnet-aaaa0001", availableIpAddressCount: 5, zone: "ap-guangzhou-3" },
  { subnetId: "subnet-aaaa0002", availableIpAddressCount: 5, zone: "ap-guangzhou-4" },
];

function check(text: string, zones: Record<string, string[]>) {
  const loaded = loadYamlText(text, "p.yaml");
  expect(loaded.diagnostics).toEqual([]);
  return zoneDiagnostics({
    policies: loaded.policies,
    sources: new Map([["p.yaml", text]]),
    subnets: SUBNETS,
    subnetsFile: "subnets.yaml",
    zones: new Map(Object.entries(zones)),
  });
}

describe("zoneDiagnostics", () => {
  test("a zone without a subnet of the policy, and a subnet of unknown zone, are warnings at spec.subnets", () => {
    const text = policy("general", ["subnet-aaaa0001", "subnet-aaaa0002", "subnet-aaaa0009"]);
    expect(check(text, { general: ["ap-guangzhou-3", "ap-guangzhou-6"], other: ["ap-guangzhou-7"] })).toEqual([
      {
        file: "p.yaml",
        line: 9,
        col: 3,
        length: 7,
        code: "subnet-zone-unknown",
        severity: "warning",
        path: ["spec", "subnets", 2],
        message:
          "spec.subnets[2] subnet-aaaa0009 is not in subnets.yaml, so its zone is unknown; allowed: every subnet of spec.subnets listed there",
        found: '"subnet-aaaa0009"',
      },
      {
        file: "p.yaml",
        line: 9,
        col: 3,
        length: 7,
        code: "no-subnet-in-zone",
        severity: "warning",
        path: ["spec", "subnets"],
        message:
          "no subnet of spec.subnets is in zone ap-guangzhou-6 (subnet-aaaa0001 in ap-guangzhou-3, subnet-aaaa0002 in ap-guangzhou-4); nodes of policy general there get no pod IP, since an ENI attaches only to an instance of its own zone; allowed: a subnet of every zone the policy's nodes run in",
        found: "subnet-aaaa0001 in ap-guangzhou-3, subnet-aaaa0002 in ap-guangzhou-4",
        allowed: "a subnet of ap-guangzhou-6",
      },
    ]);
  });

  test("every zone served: nothing to say; zones are per policy; with no subnet known the message says so", () => {
    const two = `${policy("a", ["subnet-aaaa0001"])}---\n${policy("b", ["subnet-aaaa0009"])}`;
    expect(check(two, { a: ["ap-guangzhou-3"] })).toEqual([
      expect.objectContaining({ code: "subnet-zone-unknown", line: 20, path: ["spec", "subnets", 0] }),
    ]);
    const unknown = check(two, { b: ["ap-guangzhou-3"] }).map((d) => [d.code, d.found]);
    expect(unknown).toEqual([
      ["subnet-zone-unknown", '"subnet-aaaa0009"'],
      ["no-subnet-in-zone", ""],
    ]);
    expect(check(two, { b: ["ap-guangzhou-3"] })[1]?.message).toContain("in zone ap-guangzhou-3 (no zone known)");
    expect(check(policy("a", ["subnet-aaaa0001", "subnet-aaaa0002"]), {})).toEqual([]);
  });
});
