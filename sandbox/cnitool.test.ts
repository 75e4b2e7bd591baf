import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createTestBed, type NodeNs, type TestBed } from "./test-bed.ts";
import { cnitool, makeCniDirs, ptpConflist, writeConflist, type CniDirs } from "./cnitool.ts";
import { requireCni } from "./prereq.ts";

describe("cnitool drives the reference ptp + host-local plugins in the test bed", () => {
  let bed: TestBed;
  let node: NodeNs;
  let dirs: CniDirs;
  beforeAll(async () => {
    requireCni();
    bed = await createTestBed({ subnet: "10.231.2.0/24" });
    node = await bed.addNode();
    dirs = makeCniDirs();
    writeConflist(dirs, ptpConflist("refptp", "10.232.2.0/24", dirs.ipamData));
  });
  afterAll(async () => {
    await bed?.destroy();
    dirs?.remove();
  });

  test("ADD, CHECK and DEL; the pod reaches its node", async () => {
    const pod = await bed.addPod();
    const add = await cnitool(bed, node, "add", "refptp", pod, dirs);
    expect(add.stderr).toBe("");
    expect(add.code).toBe(0);
    const result = JSON.parse(add.stdout) as { cniVersion: string; ips: Array<{ address: string; gateway: string }> };
    expect(result.cniVersion).toBe("1.0.0");
    const ip = result.ips[0]!;
    expect(ip.address).toMatch(/^10\.232\.2\.\d+\/24$/);
    const podIp = ip.address.split("/")[0]!;

    // the pod side is eth0 in the pod namespace; the host side stayed in the node namespace
    expect(await bed.ip(pod.ns, "-4", "addr", "show", "eth0")).toContain(podIp);
    expect(await bed.ip(node.ns, "route", "get", podIp)).toMatch(/dev veth/);

    const check = await cnitool(bed, node, "check", "refptp", pod, dirs);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);

    // the pod reaches its node: the host-side veth (gateway) and the node's eth0 address
    await bed.execOk(pod.ns, ["ping", "-c", "1", "-W", "2", ip.gateway]);
    await bed.execOk(pod.ns, ["ping", "-c", "1", "-W", "2", node.ip]);

    const del = await cnitool(bed, node, "del", "refptp", pod, dirs);
    expect(del.stderr).toBe("");
    expect(del.code).toBe(0);
    expect((await bed.exec(pod.ns, ["ip", "link", "show", "eth0"])).code).not.toBe(0);
    expect(await bed.ip(node.ns, "-o", "link", "show", "type", "veth")).not.toMatch(/veth/);
    // host-local released the address
    expect(existsSync(`${dirs.ipamData}/refptp/${podIp}`)).toBe(false);

    // CHECK after DEL fails: the check has teeth
    const stale = await cnitool(bed, node, "check", "refptp", pod, dirs);
    expect(stale.code).not.toBe(0);
  });

  test("cnitool's result cache goes to the test's own directory, not the host's /var/lib/cni", async () => {
    // the host's folder may exist (a runtime installed on this machine); if not, it is not made
    const hostHadIt = existsSync("/var/lib/cni");
    const pod = await bed.addPod();
    const add = await cnitool(bed, node, "add", "refptp", pod, dirs);
    expect(add.code).toBe(0);
    const cached = readdirSync(join(dirs.cache, "results"));
    expect(cached).toHaveLength(1);
    expect(cached[0]).toMatch(/^refptp-cnitool-[0-9a-f]+-eth0$/);
    expect(existsSync(join("/var/lib/cni/results", cached[0]!))).toBe(false);
    expect((await cnitool(bed, node, "del", "refptp", pod, dirs)).code).toBe(0);
    expect(readdirSync(join(dirs.cache, "results"))).toEqual([]);
    expect(existsSync("/var/lib/cni")).toBe(hostHadIt);
  });
});
