import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createTestBed, listNamespaces, sweepStaleNamespaces, type TestBed } from "./test-bed.ts";
import { runOk } from "./exec.ts";

function hostLinks(): string[] {
  return spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean)
    .map((l) => l.split(":")[1]!.trim());
}

describe("network test bed", () => {
  let bed: TestBed;
  let linksBefore: string[];
  beforeAll(async () => {
    linksBefore = hostLinks();
    bed = await createTestBed({ subnet: "10.231.0.0/24" });
  });
  afterAll(() => bed?.destroy());

  test("nodes reach each other and the gateway through the vpc namespace", async () => {
    const n1 = await bed.addNode();
    const n2 = await bed.addNode();
    expect(n1.ip).toBe("10.231.0.11");
    expect(n2.ip).toBe("10.231.0.12");
    await bed.execOk(n1.ns, ["ping", "-c", "1", "-W", "2", bed.gateway]);
    await bed.execOk(n1.ns, ["ping", "-c", "1", "-W", "2", n2.ip]);
    // node-to-node traffic is routed by the vpc namespace, port by port
    expect(await bed.ip(bed.vpc, "route", "get", n2.ip)).toContain(`dev ${n2.vpcPeer}`);
  });

  test("a veth pair gets the requested MAC and never appears in the host namespace", async () => {
    const node = bed.nodes[0]!;
    await bed.addVethPair(node.ns, "eth1", bed.vpc, `${node.name}-eth1`, { mac: "02:00:00:aa:bb:01" });
    expect(await bed.ip(node.ns, "link", "show", "eth1")).toContain("link/ether 02:00:00:aa:bb:01");
    expect(hostLinks()).toEqual(linksBefore);
  });

  test("refuses a namespace it does not own (a typo must not reach the host)", () => {
    expect(() => bed.ip("not-mine", "link")).toThrow("does not belong to test bed");
  });

  test("destroy removes every namespace of the bed", async () => {
    const other = await createTestBed({ subnet: "10.231.1.0/24" });
    await other.addNode();
    await other.addPod();
    expect(listNamespaces().filter((n) => n.startsWith(other.id))).toHaveLength(3);
    await other.destroy();
    expect(listNamespaces().filter((n) => n.startsWith(other.id))).toEqual([]);
  });

  test("the sweep removes namespaces of a dead run and keeps a live one's", async () => {
    // 2^22 + 1 is above PID_MAX_LIMIT: no process can ever have that pid
    const dead = "vpccni-t4194305xdead01-vpc";
    await runOk(["ip", "netns", "add", dead]);
    try {
      const swept = await sweepStaleNamespaces();
      expect(swept).toContain(dead);
      expect(listNamespaces()).not.toContain(dead);
      expect(listNamespaces()).toContain(bed.vpc);
    } finally {
      spawnSync("ip", ["netns", "del", dead]);
    }
  });
});
