// The agent's own sysctls go through VPCCNI_SYSCTL_NET_DIR when set (a container's /proc/sys
// is read-only; the DaemonSet mounts the node's /proc/sys/net there). A folder laid out like
// /proc/sys/net stands in for the mount, so no real sysctl is touched.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ownNetDir, readSysctls, writeSysctls } from "./netns.ts";

const saved = process.env.VPCCNI_SYSCTL_NET_DIR;
let dir = "";
afterEach(() => {
  if (saved === undefined) delete process.env.VPCCNI_SYSCTL_NET_DIR;
  else process.env.VPCCNI_SYSCTL_NET_DIR = saved;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("own-namespace sysctls", () => {
  test("default to /proc/sys/net, and follow VPCCNI_SYSCTL_NET_DIR", () => {
    expect(ownNetDir({})).toBe("/proc/sys/net");
    expect(ownNetDir({ VPCCNI_SYSCTL_NET_DIR: "/host/proc/sys/net" })).toBe("/host/proc/sys/net");
  });

  test("are read and written under the mounted folder, keys mapped to paths", async () => {
    dir = mkdtempSync(join(tmpdir(), "vpccni-sysctl-"));
    mkdirSync(join(dir, "ipv4/conf/eth1"), { recursive: true });
    writeFileSync(join(dir, "ipv4/conf/eth1/rp_filter"), "1\n");
    writeFileSync(join(dir, "ipv4/ip_forward"), "0\n");
    process.env.VPCCNI_SYSCTL_NET_DIR = dir;
    const before = await readSysctls(undefined, [
      "net.ipv4.conf.eth1.rp_filter",
      "net.ipv4.ip_forward",
      "net.ipv4.conf.eth9.rp_filter",
    ]);
    expect([...before]).toEqual([
      ["net.ipv4.conf.eth1.rp_filter", "1"],
      ["net.ipv4.ip_forward", "0"],
      ["net.ipv4.conf.eth9.rp_filter", undefined],
    ]);
    await writeSysctls(
      undefined,
      new Map([
        ["net.ipv4.conf.eth1.rp_filter", "0"],
        ["net.ipv4.ip_forward", "1"],
      ]),
    );
    expect(readFileSync(join(dir, "ipv4/conf/eth1/rp_filter"), "utf8")).toBe("0");
    expect(readFileSync(join(dir, "ipv4/ip_forward"), "utf8")).toBe("1");
  });
});
