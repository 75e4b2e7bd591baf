// `vpccni compile` end to end as a user runs it: exit codes and what it prints.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ADD_TIMEOUT_MS, PLUGIN_TIMEOUT_MARGIN_MS } from "../../schema/cni.ts";
import { run } from "../../sandbox/exec.ts";
import { cleanScratchAfterEach, policyYaml, REPO, scratchRepo } from "../../compiler/compile-kit.ts";

cleanScratchAfterEach();

const vpccni = (cwd: string, ...args: string[]) =>
  run([process.execPath, join(REPO, "cli", "main.ts"), ...args], { cwd });

describe("vpccni compile", () => {
  test("writes, then --check passes; a policy change makes --check exit 1 naming the files", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const first = await vpccni(repo, "compile", "policies", "--out", "deploy");
    expect(first.code).toBe(0);
    expect(first.stdout).toStartWith("deploy: 1 policy -> 22 added, 0 changed, 0 removed, 0 unchanged\n");
    const check = await vpccni(repo, "compile", "policies", "--out", "deploy", "--check");
    expect({ code: check.code, stdout: check.stdout }).toEqual({
      code: 0,
      stdout: "deploy is current (22 files, 1 policy)\n",
    });
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["releaseInterval: 10m"]));
    const stale = await vpccni(repo, "compile", "policies", "--out", "deploy", "--check");
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe(
      "deploy is stale: run `vpccni compile policies --out deploy` and commit\n" +
        "  changed  30-configmap-vpccni-policy-alpha.yaml\n  changed  40-daemonset-vpccni-agent-alpha.yaml\n",
    );
  });

  test("a refused policy exits 1 with the rendered diagnostic and writes nothing", async () => {
    const repo = scratchRepo({
      "a.yaml": policyYaml("alpha", "a", ["ipMode: fixed"]),
      "b.yaml": policyYaml("beta", "b", ["ipMode: fixed"]),
    });
    const res = await vpccni(repo, "compile", "policies", "--out", "deploy");
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("policies/b.yaml:12:3: error[fixed-ip-one-policy]");
    expect(res.stderr).toEndWith("2 policies in 2 files: 1 error; nothing written\n");
  });

  test("ipMode: fixed compiles: the CRDs, and a controller on the host network", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a", ["ipMode: fixed"]) });
    const res = await vpccni(repo, "compile", "policies", "--out", "deploy");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toStartWith("deploy: 1 policy -> 26 added, 0 changed, 0 removed, 0 unchanged\n");
    expect(res.stdout).toContain("  added    10-customresourcedefinition-vpcipclaims.vpccni.io.yaml\n");
    const deployment = readFileSync(join(repo, "deploy", "41-deployment-vpccni-controller.yaml"), "utf8");
    expect(deployment).toContain("hostNetwork: true\n");
    expect(deployment).not.toContain("tke.cloud.tencent.com/eni-ip");
  });

  test("--cni-bin-dir and --cni-conf-dir point the install step at the runtime's folders", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const res = await vpccni(
      repo,
      "compile",
      "policies",
      "--out",
      "deploy",
      "--cni-bin-dir",
      "/usr/libexec/cni",
      "--cni-conf-dir",
      "/etc/containerd/cni",
    );
    expect(res.code, res.stderr).toBe(0);
    const ds = readFileSync(join(repo, "deploy", "40-daemonset-vpccni-agent-alpha.yaml"), "utf8");
    expect(ds).toContain("path: /usr/libexec/cni\n");
    expect(ds).toContain("path: /etc/containerd/cni\n");
    expect(ds).not.toContain("path: /opt/cni/bin\n");
    const bad = await vpccni(repo, "compile", "policies", "--out", "deploy", "--cni-bin-dir", "opt/cni/bin");
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({
      code: 2,
      stderr:
        'vpccni compile: --cni-bin-dir is "opt/cni/bin"; allowed: an absolute path on the node, such as /opt/cni/bin\n',
    });
  });

  test("the conflist speaks CNI 1.0.0 unless --cni-version says otherwise; its wait outlasts the agent's ADD timeout", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const conflistOf = () =>
      JSON.parse(
        parse(readFileSync(join(repo, "deploy", "30-configmap-vpccni-cni-config.yaml"), "utf8")).data[
          "10-vpccni.conflist"
        ],
      );
    expect((await vpccni(repo, "compile", "policies", "--out", "deploy")).code).toBe(0);
    const conf = conflistOf();
    expect(conf.cniVersion).toBe("1.0.0");
    // one setting: the agent's default --add-timeout, and the plugin waits longer than that
    const agentHelp = (await vpccni(repo, "agent", "--help")).stdout;
    expect(agentHelp).toContain(`(default ${ADD_TIMEOUT_MS / 1000}s)`);
    expect(conf.plugins[0].timeoutMs).toBe(ADD_TIMEOUT_MS + PLUGIN_TIMEOUT_MARGIN_MS);
    expect((await vpccni(repo, "compile", "policies", "--out", "deploy", "--cni-version", "0.4.0")).code).toBe(0);
    expect(conflistOf().cniVersion).toBe("0.4.0");
    const bad = await vpccni(repo, "compile", "policies", "--out", "deploy", "--cni-version", "0.3.1");
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({
      code: 2,
      stderr: 'vpccni compile: --cni-version is "0.3.1"; allowed: 0.4.0, 1.0.0, 1.1.0\n',
    });
  });

  test("compiling a folder without policies onto the output exits 1 and removes nothing, unless --allow-remove", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    expect((await vpccni(repo, "compile", "policies", "--out", "deploy")).code).toBe(0);
    mkdirSync(join(repo, "docs"));
    const refused = await vpccni(repo, "compile", "docs", "--out", "deploy");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("error[would-remove-all]: this compile would remove all 21 files");
    expect(readdirSync(join(repo, "deploy"))).toHaveLength(22);
    const allowed = await vpccni(repo, "compile", "docs", "--out", "deploy", "--allow-remove");
    expect(allowed.code).toBe(0);
    expect(readdirSync(join(repo, "deploy"))).toEqual(["kustomization.yaml"]);
  });

  test("--without-node-status-policy leaves the admission policy out (clusters before 1.30)", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const res = await vpccni(repo, "compile", "policies", "--out", "deploy", "--without-node-status-policy");
    expect(res.code).toBe(0);
    expect(res.stdout).toStartWith("deploy: 1 policy -> 20 added,");
    expect(res.stdout).not.toContain("validatingadmissionpolicy");
    // Loudly: a warning on stderr, and in the output for whoever reviews it.
    const loud =
      "compiled with --without-node-status-policy: the admission policy vpccni-agent-node-status is left out, so every vpccni agent's ServiceAccount token may patch the status, labels and annotations of every Node";
    expect(res.stderr).toStartWith(`policies:1:1: warning[node-status-policy-off]: ${loud}`);
    const kustomization = readFileSync(join(repo, "deploy", "kustomization.yaml"), "utf8");
    expect(kustomization.split("\n")[2]).toStartWith(`# WARNING: ${loud}`);
    const json = await vpccni(
      repo,
      "compile",
      "policies",
      "--out",
      "deploy",
      "--without-node-status-policy",
      "--output",
      "json",
    );
    expect(JSON.parse(json.stdout).diagnostics.map((d: { code: string }) => d.code)).toEqual([
      "node-status-policy-off",
    ]);
    // Without the option, neither.
    const normal = await vpccni(
      scratchRepo({ "a.yaml": policyYaml("alpha", "a") }),
      "compile",
      "policies",
      "--out",
      "deploy",
    );
    expect(normal.stderr).toBe("");
    // The check must be given the same option, or it reports the policy as missing.
    const check = await vpccni(repo, "compile", "policies", "--out", "deploy", "--check");
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("  added    25-validatingadmissionpolicy-vpccni-agent-node-status.yaml\n");
  });

  test("usage errors exit 2", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    expect((await vpccni(repo, "compile", "policies")).code).toBe(2);
    const bad = await vpccni(repo, "compile", "policies", "--out", "d", "--namespace", "Bad_NS");
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({
      code: 2,
      stderr: 'vpccni compile: --namespace is "Bad_NS"; allowed: a DNS-1123 label such as vpccni-system\n',
    });
  });

  test("--output json: {ok, diff, diagnostics} for a write, a --check and a refused policy", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    const json = async (...args: string[]) => {
      const r = await vpccni(repo, "compile", "policies", "--out", "deploy", "--output", "json", ...args);
      return { code: r.code, stderr: r.stderr, doc: JSON.parse(r.stdout) };
    };
    const first = await json();
    expect(first.code).toBe(0);
    expect(first.stderr).toBe("");
    expect(first.doc.ok).toBe(true);
    expect(first.doc.diff.added).toHaveLength(22);
    expect(first.doc.diff.added).toContain("kustomization.yaml");
    expect([first.doc.diff.changed, first.doc.diff.removed, first.doc.diff.unchanged]).toEqual([[], [], []]);
    expect(first.doc.diagnostics).toEqual([]);
    const current = await json("--check");
    expect(current.code).toBe(0);
    expect(current.doc.ok).toBe(true);
    expect(current.doc.diff.unchanged).toEqual(first.doc.diff.added);
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["releaseInterval: 10m"]));
    const stale = await json("--check");
    expect(stale.code).toBe(1);
    expect(stale.doc.ok).toBe(false);
    expect(stale.doc.diff.changed).toEqual([
      "30-configmap-vpccni-policy-alpha.yaml",
      "40-daemonset-vpccni-agent-alpha.yaml",
    ]);
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["ipMode: fixed"]));
    writeFileSync(join(repo, "policies", "b.yaml"), policyYaml("beta", "b", ["ipMode: fixed"]));
    const refused = await json();
    expect(refused.code).toBe(1);
    expect(refused.doc.ok).toBe(false);
    expect(refused.doc.diff).toBeNull();
    expect(refused.doc.diagnostics.map((d: { code: string }) => d.code)).toContain("fixed-ip-one-policy");
    const bad = await vpccni(repo, "compile", "policies", "--out", "deploy", "--output", "yaml");
    expect({ code: bad.code, stderr: bad.stderr }).toEqual({
      code: 2,
      stderr: 'vpccni compile: --output is "yaml"; allowed: text or json\n',
    });
  });
});
