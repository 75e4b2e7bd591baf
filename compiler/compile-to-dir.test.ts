// compileToDir: determinism, --check staleness, pruning of owned files, foreign files.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileToDir, isCurrent } from "./compile-to-dir.ts";
import { OWNED_MARKER } from "./render.ts";
import { cleanScratchAfterEach, policyYaml, readTree, scratchRepo, tempDir } from "./compile-kit.ts";

cleanScratchAfterEach();

describe("determinism", () => {
  test("compiling twice gives identical bytes, and a second compile writes nothing", async () => {
    const repo = scratchRepo();
    const first = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    expect(first.diagnostics).toEqual([]);
    const bytes = readTree(join(repo, "deploy"));
    const second = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    expect(second.diff!.unchanged.length).toBe(bytes.size);
    expect(isCurrent(second.diff!)).toBe(true);
    expect(readTree(join(repo, "deploy"))).toEqual(bytes);
  });

  test("the bytes depend neither on the working directory nor on the order policies are named in", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a"), "b.yaml": policyYaml("beta", "b") });
    await compileToDir({ paths: ["policies/a.yaml", "policies/b.yaml"], outDir: "deploy", cwd: repo });
    const fromRoot = readTree(join(repo, "deploy"));
    const sub = join(repo, "policies");
    const again = await compileToDir({ paths: ["b.yaml", "a.yaml"], outDir: "../deploy", cwd: sub, check: true });
    expect(again.diagnostics).toEqual([]);
    expect(isCurrent(again.diff!)).toBe(true);
    expect(fromRoot.get("40-daemonset-vpccni-agent-alpha.yaml")).toContain("# Made from ../policies/a.yaml.");
  });

  test("no timestamps, no generated names: every file is free of dates and of cdk8s hashes", async () => {
    const repo = scratchRepo();
    await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    for (const [name, text] of readTree(join(repo, "deploy"))) {
      expect({ name, date: /\b20\d\d-\d\d-\d\d/.test(text) }).toEqual({ name, date: false });
      expect({ name, hash: /name: \S+-c[0-9a-f]{7,}\b/.test(text) }).toEqual({ name, hash: false });
      expect(text.startsWith(OWNED_MARKER)).toBe(true);
    }
  });
});

describe("--check", () => {
  async function compiled() {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a"), "b.yaml": policyYaml("beta", "b") });
    await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    return { repo, out: join(repo, "deploy") };
  }

  test("a current folder passes", async () => {
    const { repo } = await compiled();
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo, check: true });
    expect(isCurrent(result.diff!)).toBe(true);
  });

  test("a changed policy is reported as changed files and nothing is written", async () => {
    const { repo, out } = await compiled();
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["prebind: { min: 1, max: 3 }"]));
    const before = readTree(out);
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo, check: true });
    expect(result.diff!.changed).toEqual([
      "30-configmap-vpccni-policy-alpha.yaml",
      "40-daemonset-vpccni-agent-alpha.yaml",
    ]);
    expect(readTree(out)).toEqual(before);
  });

  test("a hand edit, a deleted file and an owned extra file are all reported", async () => {
    const { repo, out } = await compiled();
    const ns = join(out, "10-namespace-vpccni-system.yaml");
    writeFileSync(ns, readFileSync(ns, "utf8").replace("vpccni-system", "edited"));
    rmSync(join(out, "50-service-vpccni-agent-metrics.yaml"));
    writeFileSync(join(out, "40-daemonset-vpccni-agent-gone.yaml"), `${OWNED_MARKER}\nkind: DaemonSet\n`);
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo, check: true });
    expect(result.diff!.changed).toEqual(["10-namespace-vpccni-system.yaml"]);
    expect(result.diff!.added).toEqual(["50-service-vpccni-agent-metrics.yaml"]);
    expect(result.diff!.stale).toEqual(["40-daemonset-vpccni-agent-gone.yaml"]);
    expect(isCurrent(result.diff!)).toBe(false);
  });
});

describe("the output folder", () => {
  test("a removed policy is refused without --allow-remove, naming it; nothing is written", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a"), "b.yaml": policyYaml("beta", "b") });
    await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    const before = readTree(join(repo, "deploy"));
    rmSync(join(repo, "policies", "b.yaml"));
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    expect(result.diagnostics.map((d) => [d.code, d.severity, d.file])).toEqual([
      ["would-remove-policy", "error", "deploy/40-daemonset-vpccni-agent-beta.yaml"],
    ]);
    expect(result.diagnostics[0]!.message).toStartWith(
      'policy "beta" is no longer compiled: its DaemonSet (deploy/40-daemonset-vpccni-agent-beta.yaml)',
    );
    expect(result.diagnostics[0]!.message).toContain("first commit spec.enabled: false");
    expect(readTree(join(repo, "deploy"))).toEqual(before);
  });

  test("with --allow-remove a removed policy's files are deleted; files without the header are left alone", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a"), "b.yaml": policyYaml("beta", "b") });
    await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    writeFileSync(join(repo, "deploy", "99-mine.yaml"), "kind: ConfigMap\n");
    rmSync(join(repo, "policies", "b.yaml"));
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo, allowRemove: true });
    expect(result.diagnostics.map((d) => [d.code, d.severity])).toEqual([["would-remove-policy", "warning"]]);
    expect(result.diff!.stale).toEqual([
      "20-serviceaccount-vpccni-agent-beta.yaml",
      "30-configmap-vpccni-policy-beta.yaml",
      "40-daemonset-vpccni-agent-beta.yaml",
    ]);
    const files = [...readTree(join(repo, "deploy")).keys()];
    expect(files.filter((f) => f.includes("beta"))).toEqual([]);
    expect(files).toContain("99-mine.yaml");
    expect(readFileSync(join(repo, "deploy", "kustomization.yaml"), "utf8")).not.toContain("agent-beta");
  });

  test("no policy left switches vpccni off only with --allow-remove: every owned file goes, kustomization.yaml lists nothing", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    rmSync(join(repo, "policies", "a.yaml"));
    const refused = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    expect(refused.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["no-policies", "warning"],
      ["would-remove-all", "error"],
    ]);
    expect([...readTree(join(repo, "deploy")).keys()]).toContain("40-daemonset-vpccni-agent-alpha.yaml");
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo, allowRemove: true });
    expect(result.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ["no-policies", "warning"],
      ["would-remove-all", "warning"],
    ]);
    expect([...readTree(join(repo, "deploy")).keys()]).toEqual(["kustomization.yaml"]);
    expect(readFileSync(join(repo, "deploy", "kustomization.yaml"), "utf8")).toEndWith(
      "kind: Kustomization\nresources: []\n",
    );
  });

  test("a file without the header in the place of a generated one is refused, not overwritten", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    mkdirSync(join(repo, "deploy"));
    writeFileSync(join(repo, "deploy", "21-clusterrole-vpccni-agent.yaml"), "# mine\n");
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    expect(result.diagnostics.map((d) => [d.code, d.file])).toEqual([
      ["foreign-file", "deploy/21-clusterrole-vpccni-agent.yaml"],
    ]);
    expect(readFileSync(join(repo, "deploy", "21-clusterrole-vpccni-agent.yaml"), "utf8")).toBe("# mine\n");
    expect([...readTree(join(repo, "deploy")).keys()]).toEqual(["21-clusterrole-vpccni-agent.yaml"]);
  });

  test("an empty temp folder is created on demand", async () => {
    const dir = tempDir();
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const result = await compileToDir({ paths: [join(repo, "policies")], outDir: join(dir, "x", "y"), cwd: repo });
    expect(result.diff!.added).toContain("kustomization.yaml");
  });
});

describe("switching off (spec.enabled: false)", () => {
  test("step 1 compiles to a drain: the agents stay, the ConfigMap says enabled: false, install-cni writes no conflist", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    const on = readTree(join(repo, "deploy"));
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["enabled: false"]));
    const result = await compileToDir({ paths: ["policies"], outDir: "deploy", cwd: repo });
    expect(result.diagnostics).toEqual([]);
    const off = readTree(join(repo, "deploy"));
    expect([...off.keys()]).toEqual([...on.keys()]);
    const changed = [...off.keys()].filter((f) => off.get(f) !== on.get(f));
    expect(changed).toEqual(["30-configmap-vpccni-policy-alpha.yaml", "40-daemonset-vpccni-agent-alpha.yaml"]);
    expect(off.get("30-configmap-vpccni-policy-alpha.yaml")).toContain("      enabled: false\n");
    const ds = off.get("40-daemonset-vpccni-agent-alpha.yaml")!;
    expect(ds).toContain("vpccni is switched off (spec.enabled: false)");
    expect(ds).not.toContain("10-vpccni.conflist.tmp");
    // The agent keeps the CNI folder, to remove the conflist once the node is drained.
    expect(ds).toContain("--cni-conf-dir=/host/etc/cni/net.d");
  });
});
