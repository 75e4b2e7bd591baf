// Refusals: two fixed-IP policies in one cluster, several clusters at once, and changes a
// running cluster cannot take, found by comparing with the previous output. Rendered text is pinned.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderDiagnostics } from "../schema/index.ts";
import { compileToDir } from "./compile-to-dir.ts";
import { cleanScratchAfterEach, policyYaml, readTree, REPO, scratchRepo } from "./compile-kit.ts";

cleanScratchAfterEach();

async function compileIn(repo: string) {
  const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
  return { ...result, text: renderDiagnostics(result.diagnostics, result.sources) };
}

describe("refused policies", () => {
  test("ipMode: fixed compiles: the four CRDs first, the controller running the fixed policy's pool", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a"),
      "b.yaml": policyYaml("beta", "b", ["ipMode: fixed", "fixedIp: { reclaim: 30m }"]),
    });
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics).toEqual([]);
    const files = [...readTree(join(repo, "deploy")).keys()];
    expect(files.slice(0, 5)).toEqual([
      "10-customresourcedefinition-nodeeniconfigs.vpccni.io.yaml",
      "10-customresourcedefinition-vpcenis.vpccni.io.yaml",
      "10-customresourcedefinition-vpcipclaims.vpccni.io.yaml",
      "10-customresourcedefinition-vpcips.vpccni.io.yaml",
      "10-namespace-vpccni-system.yaml",
    ]);
    const deployment = readFileSync(join(repo, "deploy", "41-deployment-vpccni-controller.yaml"), "utf8");
    // the fixed policy's ConfigMap, though "alpha" sorts first
    expect(deployment).toContain("name: vpccni-policy-beta\n");
    expect(deployment).not.toContain("vpccni-policy-alpha");
  });

  test("two fixed-IP policies in one cluster are refused at the second spec.ipMode, naming the first", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a", ["ipMode: fixed"]),
      "b.yaml": policyYaml("beta", "b", ["ipMode: fixed"]),
    });
    const { text, diagnostics } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.file, d.line, d.col])).toEqual([
      ["fixed-ip-one-policy", "policies/b.yaml", 12, 3],
    ]);
    expect(text).toBe(
      [
        'policies/b.yaml:12:3: error[fixed-ip-one-policy]: spec.ipMode of "beta" is "fixed", but "alpha" (policies/a.yaml:12:3) is "fixed" already; the controller runs one fixed-IP pool per cluster (one policy\'s subnets, nodes and reclaim); allowed: ipMode: fixed in one policy, shared in the others',
        "   |",
        "12 |   ipMode: fixed",
        "   |   ^^^^^^",
      ].join("\n"),
    );
    expect(existsSync(join(repo, "deploy"))).toBe(false);
  });

  test("in a TypeScript file the second fixed policy is refused at its own ipMode key", async () => {
    const ts = [
      `import { definePolicy } from ${JSON.stringify(join(REPO, "schema", "index.ts"))};`,
      "const base = { clusterId: 'cls-test0001', region: 'ap-guangzhou', vpcId: 'vpc-test0001', subnets: ['subnet-test0001'] };",
      "export default [",
      "  definePolicy({ apiVersion: 'vpccni.io/v1alpha1', kind: 'VpcCniPolicy', metadata: { name: 'one' },",
      "    spec: { ...base, nodeSelector: { pool: 'one' },",
      "      ipMode: 'fixed' } }),",
      "  definePolicy({ apiVersion: 'vpccni.io/v1alpha1', kind: 'VpcCniPolicy', metadata: { name: 'two' },",
      "    spec: { ...base, nodeSelector: { pool: 'two' },",
      "      ipMode: 'fixed' } }),",
      "];",
      "",
    ].join("\n");
    const repo = scratchRepo({ "all.policy.ts": ts });
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.file, d.line, d.col])).toEqual([
      ["fixed-ip-one-policy", "policies/all.policy.ts", 9, 7],
    ]);
    expect(diagnostics[0]!.message).toContain('but "one" (policies/all.policy.ts:6:7) is "fixed" already');
  });

  test("a shared and a fixed policy whose nodeSelectors can select one node are refused (schema cross-check)", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a"),
      "b.yaml": policyYaml("beta", "a", ["ipMode: fixed"]),
    });
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([["overlapping-node-selector", "policies/b.yaml"]]);
    expect(existsSync(join(repo, "deploy"))).toBe(false);
  });

  test("a credentials Secret in another namespace than the agents' is refused at its namespace", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a", ["cloud:", "  credentialsSecretRef: { name: keys, namespace: elsewhere }"]),
    });
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.line])).toEqual([["credentials-secret-namespace", 13]]);
    expect(diagnostics[0]!.message).toBe(
      'spec.cloud.credentialsSecretRef.namespace of "alpha" is "elsewhere", but the agents run in "vpccni-system"; a pod can only mount a Secret of its own namespace, and the agent gets no API access to Secrets; allowed: "vpccni-system" or unset',
    );
  });

  test("policies of two clusters are refused at the second clusterId", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a"),
      "b.yaml": policyYaml("beta", "b", [], "cls-other001"),
    });
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.file, d.line, d.col])).toEqual([
      ["mixed-clusters", "policies/b.yaml", 6, 3],
    ]);
    expect(diagnostics[0]!.message).toContain(
      'is "cls-other001", but "alpha" (policies/a.yaml:4) is for "cls-test0001"',
    );
  });

  test("policies of one cluster with different modes are refused at the second spec.mode, naming the first", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a", ["mode: mixed"]),
      "b.yaml": policyYaml("beta", "b", ["mode: default"]),
    });
    const { diagnostics, text } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.file, d.line, d.col])).toEqual([
      ["mode-mismatch", "policies/b.yaml", 12, 3],
    ]);
    expect(text.split("\n")[0]).toBe(
      'policies/b.yaml:12:3: error[mode-mismatch]: spec.mode of "beta" is "default", but "alpha" (policies/a.yaml:12:3) has "mixed"; the CNI configuration every node installs is one for the cluster; allowed: "mixed" in every policy',
    );
    expect(existsSync(join(repo, "deploy"))).toBe(false);
  });

  test("policies that agree on mixed mode compile: one 00-vpccni.conflist delegating to the kept configuration", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a", ["mode: mixed"]),
      "b.yaml": policyYaml("beta", "b", ["mode: mixed"]),
    });
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics).toEqual([]);
    const files = readTree(join(repo, "deploy"));
    const cni = files.get("30-configmap-vpccni-cni-config.yaml")!;
    expect(cni).toContain("00-vpccni.conflist:");
    expect(cni).not.toContain("10-vpccni.conflist");
    expect(cni).toContain('"conflist": "/etc/cni/net.d/vpccni/delegate.conflist"');
    for (const name of ["alpha", "beta"])
      expect(files.get(`40-daemonset-vpccni-agent-${name}.yaml`)).toContain("vpccni/delegate.conflist");
  });
});

describe("changes a running cluster cannot take", () => {
  test("flipping ipMode is refused with the reason", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    expect((await compileIn(repo)).diagnostics).toEqual([]);
    const before = readTree(join(repo, "deploy"));
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["ipMode: fixed"]));
    const { diagnostics, text } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([["immutable-field", 12, 3]]);
    expect(text).toContain(
      'policies/a.yaml:12:3: error[immutable-field]: spec.ipMode of "alpha" changes from "shared" to "fixed" (previous output deploy/30-configmap-vpccni-policy-alpha.yaml); IP mode can only be chosen when a cluster is created',
    );
    expect(readTree(join(repo, "deploy"))).toEqual(before);
  });

  test("changing clusterId or vpcId of an existing policy is refused; other fields are fine", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    await compileIn(repo);
    writeFileSync(
      join(repo, "policies", "a.yaml"),
      policyYaml("alpha", "a", [], "cls-moved001").replace("vpc-test0001", "vpc-moved001"),
    );
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.path.join("."), d.line])).toEqual([
      ["immutable-field", "spec.clusterId", 6],
      ["immutable-field", "spec.vpcId", 8],
    ]);
    expect(diagnostics[0]!.message).toContain("would orphan them");
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["prebind: { min: 0, max: 9 }"]));
    expect((await compileIn(repo)).diagnostics).toEqual([]);
  });

  test("a DaemonSet selector that differs from the previous output is refused", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    await compileIn(repo);
    // What an older generator with another selector scheme would have left behind.
    const file = join(repo, "deploy", "40-daemonset-vpccni-agent-alpha.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace("    matchLabels:\n", "    matchLabels:\n      tier: old\n"),
    );
    const { diagnostics } = await compileIn(repo);
    expect(diagnostics.map((d) => [d.code, d.file, d.line])).toEqual([["immutable-field", "policies/a.yaml", 4]]);
    expect(diagnostics[0]!.message).toContain("DaemonSet vpccni-agent-alpha: spec.selector would change from");
    expect(diagnostics[0]!.message).toContain("Kubernetes does not allow changing a DaemonSet's selector");
    expect(readFileSync(file, "utf8")).toContain("tier: old");
  });

  test("a renamed policy is a new policy: no immutable-field refusal; pruning the old one needs --allow-remove", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    await compileIn(repo);
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("gamma", "a", ["ipMode: shared"], "cls-moved001"));
    expect((await compileIn(repo)).diagnostics.map((d) => d.code)).toEqual(["would-remove-policy"]);
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo, allowRemove: true });
    expect(result.diagnostics.map((d) => [d.code, d.severity])).toEqual([["would-remove-policy", "warning"]]);
    expect([...readTree(join(repo, "deploy")).keys()].filter((f) => f.includes("alpha"))).toEqual([]);
  });
});
