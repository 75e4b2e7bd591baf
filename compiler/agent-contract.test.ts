// The init container's install script, run for real with sh against a scratch tree that
// stands in for the image and the node's directories.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../sandbox/exec.ts";
import { conflist } from "./conflist.ts";
import { FILES, INSTALL_CNI_SCRIPT, installCniScript, PATHS } from "./agent-contract.ts";
import { cleanScratchAfterEach, tempDir } from "./compile-kit.ts";

cleanScratchAfterEach();

/** The script with every absolute path moved under `root`. */
function scriptUnder(root: string, script = INSTALL_CNI_SCRIPT): string {
  return script.replaceAll(" /", ` ${root}/`);
}

function tree(root: string, nodeHasPortmap: boolean) {
  for (const dir of [
    "opt/vpccni/bin",
    PATHS.cniConfigDir.slice(1),
    PATHS.cniBinMount.slice(1),
    PATHS.cniConfMount.slice(1),
  ])
    mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, PATHS.cniBinaryInImage), "vpccni-cni v2", { mode: 0o600 });
  writeFileSync(join(root, PATHS.portmapInImage), "portmap from the image");
  writeFileSync(join(root, PATHS.cniConfigDir, FILES.conflist), conflist());
  writeFileSync(join(root, PATHS.cniConfigDir, FILES.mixedConflist), conflist({ mode: "mixed" }));
  writeFileSync(join(root, PATHS.cniBinMount, "vpccni"), "vpccni-cni v1");
  if (nodeHasPortmap) writeFileSync(join(root, PATHS.cniBinMount, "portmap"), "the node's portmap");
}

describe("install-cni script", () => {
  test("replaces the binary and the conflist, installs portmap on a node without one, leaves no temp file", async () => {
    const root = tempDir();
    tree(root, false);
    const res = await run(["sh", "-c", scriptUnder(root)]);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
    const bin = join(root, PATHS.cniBinMount);
    expect(readdirSync(bin).sort()).toEqual(["portmap", "vpccni"]);
    expect(readFileSync(join(bin, "vpccni"), "utf8")).toBe("vpccni-cni v2");
    expect(statSync(join(bin, "vpccni")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(bin, "portmap"), "utf8")).toBe("portmap from the image");
    const conf = join(root, PATHS.cniConfMount);
    expect(readdirSync(conf)).toEqual([FILES.conflist]);
    expect(readFileSync(join(conf, FILES.conflist), "utf8")).toBe(conflist());
    expect(statSync(join(conf, FILES.conflist)).mode & 0o777).toBe(0o644);
  });

  test("keeps the node's own portmap", async () => {
    const root = tempDir();
    tree(root, true);
    expect((await run(["sh", "-c", scriptUnder(root)])).code).toBe(0);
    expect(readFileSync(join(root, PATHS.cniBinMount, "portmap"), "utf8")).toBe("the node's portmap");
  });

  test("fails, writing no conflist, when the image lacks the CNI binary", async () => {
    const root = tempDir();
    tree(root, true);
    rmSync(join(root, PATHS.cniBinaryInImage));
    const res = await run(["sh", "-c", scriptUnder(root)]);
    expect(res.code).not.toBe(0);
    expect(existsSync(join(root, PATHS.cniConfMount, FILES.conflist))).toBe(false);
  });
});

describe("install-cni script, switched off (spec.enabled: false)", () => {
  for (const mode of ["default", "mixed"] as const)
    test(`${mode} mode: installs the binary for the DEL of running pods, and never puts a conflist back`, async () => {
      const root = tempDir();
      tree(root, true);
      writeFileSync(join(root, PATHS.cniConfMount, "10-bridge.conflist"), "{}");
      const res = await run(["sh", "-c", scriptUnder(root, installCniScript(mode, { enabled: false }))]);
      expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
      expect(res.stdout).toContain("vpccni is switched off (spec.enabled: false)");
      expect(readFileSync(join(root, PATHS.cniBinMount, "vpccni"), "utf8")).toBe("vpccni-cni v2");
      expect(readdirSync(join(root, PATHS.cniConfMount))).toEqual(["10-bridge.conflist"]);
    });
});

describe("install-cni script, mixed mode", () => {
  const bridge = (name: string) =>
    JSON.stringify({ cniVersion: "1.0.0", name, plugins: [{ type: "bridge", ipam: { type: "host-local" } }] });
  const conf = (root: string) => join(root, PATHS.cniConfMount);
  const kept = (root: string) => join(conf(root), FILES.delegateDir, FILES.delegateConflist);
  const install = (root: string) => run(["sh", "-c", scriptUnder(root, installCniScript("mixed"))]);

  test("keeps the first configuration that is not vpccni's once, and installs 00-vpccni.conflist in front of it", async () => {
    const root = tempDir();
    tree(root, true);
    // A vpccni conflist from default mode, and a stale copy of vpccni's under another name: neither is kept.
    writeFileSync(join(conf(root), FILES.conflist), conflist());
    writeFileSync(join(conf(root), "05-old-vpccni.conflist"), conflist());
    writeFileSync(join(conf(root), "10-bridge.conflist"), bridge("cbr0"));
    writeFileSync(
      join(conf(root), "99-loopback.conf"),
      JSON.stringify({ cniVersion: "1.0.0", name: "lo", type: "loopback" }),
    );
    writeFileSync(join(conf(root), "README"), "not a CNI configuration");
    const first = await install(root);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: "" });
    expect(first.stdout).toContain("kept 10-bridge.conflist as vpccni/delegate.conflist");
    expect(readFileSync(kept(root), "utf8")).toBe(bridge("cbr0"));
    expect(statSync(kept(root)).mode & 0o777).toBe(0o644);
    // The runtime picks the first file: vpccni's; the default mode's conflist is gone.
    expect(readdirSync(conf(root)).sort()).toEqual([
      FILES.mixedConflist,
      "05-old-vpccni.conflist",
      "10-bridge.conflist",
      "99-loopback.conf",
      "README",
      FILES.delegateDir,
    ]);
    expect(readFileSync(join(conf(root), FILES.mixedConflist), "utf8")).toBe(conflist({ mode: "mixed" }));

    // A re-run (agent upgrade, node reboot) never replaces the kept copy.
    writeFileSync(join(conf(root), "10-bridge.conflist"), bridge("changed"));
    const again = await install(root);
    expect({ code: again.code, stderr: again.stderr, stdout: again.stdout }).toEqual({
      code: 0,
      stderr: "",
      stdout: "",
    });
    expect(readFileSync(kept(root), "utf8")).toBe(bridge("cbr0"));
    expect(readdirSync(join(conf(root), FILES.delegateDir))).toEqual([FILES.delegateConflist]);

    // Back to default mode: the mixed conflist goes, the kept copy stays (delegated pods' DELs use their records).
    const back = await run(["sh", "-c", scriptUnder(root)]);
    expect(back.code).toBe(0);
    expect(existsSync(join(conf(root), FILES.mixedConflist))).toBe(false);
    expect(existsSync(join(conf(root), FILES.conflist))).toBe(true);
    expect(existsSync(kept(root))).toBe(true);
  });

  test("fails, writing no conflist, on a node with no other CNI configuration", async () => {
    const root = tempDir();
    tree(root, true);
    const res = await install(root);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("the node's CNI folder holds no configuration besides vpccni's");
    expect(readdirSync(conf(root))).toEqual([]);
  });

  test("fails when the node's configuration would sort before 00-vpccni.conflist", async () => {
    const root = tempDir();
    tree(root, true);
    writeFileSync(join(conf(root), "00-calico.conflist"), bridge("k8s-pod-network"));
    const res = await install(root);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("00-calico.conflist sorts before 00-vpccni.conflist");
    expect(existsSync(join(conf(root), FILES.mixedConflist))).toBe(false);
  });
});
