// The init container's install script, run for real with sh against a scratch tree that
// stands in for the image and the node's directories.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../sandbox/exec.ts";
import { conflist } from "./conflist.ts";
import { FILES, INSTALL_CNI_SCRIPT, PATHS } from "./agent-contract.ts";
import { cleanScratchAfterEach, tempDir } from "./compile-kit.ts";

cleanScratchAfterEach();

/** The script with every absolute path moved under `root`. */
function scriptUnder(root: string): string {
  return INSTALL_CNI_SCRIPT.replaceAll(" /", ` ${root}/`);
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
