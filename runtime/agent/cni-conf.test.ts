import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { otherConfigs, removeConflist } from "./cni-conf.ts";

const dirs: string[] = [];
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "vpccni-netd-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const vpccni = JSON.stringify({ cniVersion: "1.0.0", name: "vpccni", plugins: [{ type: "vpccni" }] });
const bridge = JSON.stringify({ cniVersion: "1.0.0", name: "cbr0", plugins: [{ type: "bridge" }] });

describe("removeConflist (switching off)", () => {
  test("default mode: vpccni's conflist goes, other files stay; a second run does nothing", () => {
    const dir = folder({ "10-vpccni.conflist": vpccni, "99-loopback.conf": "{}", README: "x" });
    expect(removeConflist(dir)).toEqual({ removed: ["10-vpccni.conflist"], restored: null });
    expect(readdirSync(dir).sort()).toEqual(["99-loopback.conf", "README"]);
    expect(removeConflist(dir)).toEqual({ removed: [], restored: null });
  });

  test("mixed mode: the node's previous configuration, still in place, applies again; the kept copy goes", () => {
    const dir = folder({
      "00-vpccni.conflist": vpccni,
      "10-bridge.conflist": bridge,
      "vpccni/delegate.conflist": bridge,
    });
    expect(removeConflist(dir)).toEqual({ removed: ["00-vpccni.conflist", "vpccni/"], restored: null });
    expect(readdirSync(dir)).toEqual(["10-bridge.conflist"]);
  });

  test("mixed mode: a previous configuration that is gone from the folder is written back from the kept copy", () => {
    const dir = folder({ "00-vpccni.conflist": vpccni, "vpccni/delegate.conflist": bridge });
    expect(removeConflist(dir)).toEqual({ removed: ["00-vpccni.conflist", "vpccni/"], restored: "10-cbr0.conflist" });
    expect(readdirSync(dir)).toEqual(["10-cbr0.conflist"]);
    expect(readFileSync(join(dir, "10-cbr0.conflist"), "utf8")).toBe(bridge);
    expect(existsSync(join(dir, "vpccni"))).toBe(false);
  });

  test("otherConfigs skips vpccni's files, hidden temporaries and any configuration naming the vpccni plugin", () => {
    const dir = folder({
      "00-vpccni.conflist": vpccni,
      "05-renamed.conflist": vpccni,
      ".10-x.conflist.tmp": bridge,
      "20-b.conf": bridge,
      "10-a.conflist": bridge,
    });
    expect(otherConfigs(dir)).toEqual(["10-a.conflist", "20-b.conf"]);
  });
});
