// `vpccni validate` with zones: it cannot know where nodes run nor read the cloud, so it warns
// only when told both (--zones) and the subnets' zones (--subnets), and says exactly that.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { cleanScratchAfterEach, policyYaml, REPO, scratchRepo } from "../../compiler/compile-kit.ts";

cleanScratchAfterEach();

const vpccni = (cwd: string, ...args: string[]) =>
  run([process.execPath, join(REPO, "cli", "main.ts"), ...args], { cwd });

const SUBNETS = [
  { subnetId: "subnet-test0001", availableIpAddressCount: 100, zone: "ap-guangzhou-3" },
  { subnetId: "subnet-test0002", availableIpAddressCount: 100, zone: "ap-guangzhou-4" },
];

describe("vpccni validate --subnets --zones", () => {
  test("warns, at spec.subnets, about each zone of the nodes without a subnet; exit 0", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    writeFileSync(join(repo, "subnets.json"), JSON.stringify(SUBNETS));
    const both = await vpccni(repo, "validate", "policies", "--subnets", "subnets.json", "--zones", "ap-guangzhou-3");
    expect({ code: both.code, stdout: both.stdout, stderr: both.stderr }).toEqual({
      code: 0,
      stdout: "1 policy in 1 file: 0 errors\n",
      stderr: "",
    });
    const r = await vpccni(
      repo,
      "validate",
      "policies",
      "--subnets",
      "subnets.json",
      "--zones",
      "ap-guangzhou-3,ap-guangzhou-4",
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      [
        "policies/a.yaml:9:3: warning[no-subnet-in-zone]: no subnet of spec.subnets is in zone ap-guangzhou-4 (subnet-test0001 in ap-guangzhou-3); nodes of policy alpha there get no pod IP, since an ENI attaches only to an instance of its own zone; allowed: a subnet of every zone the policy's nodes run in",
        "  |",
        "9 |   subnets: [subnet-test0001]",
        "  |   ^^^^^^^",
        "",
        "",
      ].join("\n"),
    );
    expect(r.stdout).toBe("1 policy in 1 file: 0 errors, 1 warning\n");
  });

  test("per policy zones; a policy subnet missing from the file is a warning that its zone is unknown", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a").replace("[subnet-test0001]", "[subnet-test0001, subnet-gone0001]"),
      "b.yaml": policyYaml("beta", "b").replace("[subnet-test0001]", "[subnet-test0002]"),
    });
    writeFileSync(join(repo, "subnets.json"), JSON.stringify(SUBNETS));
    const r = await vpccni(
      repo,
      "validate",
      "policies",
      "--format",
      "json",
      "--subnets",
      "subnets.json",
      "--zones",
      "alpha:ap-guangzhou-3,beta:ap-guangzhou-3",
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { code: string; file: string; message: string }[] };
    expect(out.ok).toBe(true);
    expect(out.diagnostics.map((d) => [d.file, d.code, d.message])).toEqual([
      [
        "policies/a.yaml",
        "subnet-zone-unknown",
        "spec.subnets[1] subnet-gone0001 is not in subnets.json, so its zone is unknown; allowed: every subnet of spec.subnets listed there",
      ],
      [
        "policies/b.yaml",
        "no-subnet-in-zone",
        "no subnet of spec.subnets is in zone ap-guangzhou-3 (subnet-test0002 in ap-guangzhou-4); nodes of policy beta there get no pod IP, since an ENI attaches only to an instance of its own zone; allowed: a subnet of every zone the policy's nodes run in",
      ],
    ]);
  });

  test("one without the other, or a subnets file without zones, is a usage error", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    writeFileSync(join(repo, "bare.json"), JSON.stringify(SUBNETS.map(({ zone: _, ...s }) => s)));
    const lone = await vpccni(repo, "validate", "policies", "--zones", "ap-guangzhou-3");
    expect({ code: lone.code, stderr: lone.stderr }).toEqual({
      code: 2,
      stderr: "vpccni validate: --zones needs --subnets FILE (the zone of each subnet; validate reads no cloud)\n",
    });
    const bare = await vpccni(repo, "validate", "policies", "--subnets", "bare.json", "--zones", "ap-guangzhou-3");
    expect({ code: bare.code, stderr: bare.stderr }).toEqual({
      code: 2,
      stderr: "vpccni validate: bare.json gives no zones; allowed: a zone on every subnet (DescribeSubnets' Zone)\n",
    });
  });
});

describe("no policy at all", () => {
  test("validate and plan exit 1 on paths that hold no policy, naming them", async () => {
    const repo = scratchRepo({});
    for (const args of [
      ["validate", "policies"],
      ["plan", "--nodes", "3", "policies"],
    ]) {
      const r = await vpccni(repo, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toContain(
        "policies:1:1: error[no-policies]: no policy found in policies; allowed: YAML files (.yaml, .yml) or *.policy.ts files holding a VpcCniPolicy, or folders of them",
      );
    }
  });
});

describe("vpccni validate --output", () => {
  test("--output json is --format json: one document, ok false and exit 1 on an error", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const viaOutput = await vpccni(repo, "validate", "policies", "--output", "json");
    expect(viaOutput.code).toBe(0);
    expect(JSON.parse(viaOutput.stdout)).toEqual({
      ok: true,
      policies: [{ name: "alpha", file: "policies/a.yaml", line: 4 }],
      diagnostics: [],
    });
    expect(await vpccni(repo, "validate", "policies", "--format", "json")).toEqual(viaOutput);
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["prebind: { min: 9, max: 3 }"]));
    const bad = await vpccni(repo, "validate", "policies", "--output", "json");
    expect(bad.code).toBe(1);
    const doc = JSON.parse(bad.stdout) as { ok: boolean; diagnostics: { severity: string }[] };
    expect(doc.ok).toBe(false);
    expect(doc.diagnostics.some((d) => d.severity === "error")).toBe(true);
  });

  test("--output and --format asking for different formats, or --output yaml, is a usage error", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const both = await vpccni(repo, "validate", "policies", "--output", "json", "--format", "text");
    expect({ code: both.code, stderr: both.stderr }).toEqual({
      code: 2,
      stderr: "vpccni validate: --output json and --format ask for different formats; allowed: one of them\n",
    });
    const yaml = await vpccni(repo, "validate", "policies", "--output", "yaml");
    expect({ code: yaml.code, stderr: yaml.stderr }).toEqual({
      code: 2,
      stderr: 'vpccni validate: --output is "yaml"; allowed: text or json\n',
    });
  });
});
