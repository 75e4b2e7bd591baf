// The drift-repair planner, without a kernel: observed state in, ip -batch lines out.
import { describe, expect, test } from "bun:test";
import { hostVethName, vethMacs } from "./names.ts";
import type { Observed } from "./observe.ts";
import { planRepair } from "./repair.ts";
import type { DesiredState, PodSpec } from "./types.ts";

const pod: PodSpec = {
  network: "vpc",
  containerId: "c1",
  ifname: "eth0",
  netns: "/var/run/netns/p",
  ip: "10.0.1.5",
  table: 2003,
};
const veth = hostVethName(pod);
const eni = { mac: "02:00:00:00:00:01", subnetCidr: "10.0.1.0/24", gateway: "10.0.1.1" };
const desired: DesiredState = { primaryInterface: "eth0", enis: [eni], pods: [pod] };

function healthy(): Observed {
  return {
    links: [
      { ifindex: 3, ifname: "eth1", address: eni.mac, flags: ["UP"], link_type: "ether" },
      {
        ifindex: 9,
        ifname: veth,
        address: vethMacs(pod).host,
        flags: ["UP"],
        link_type: "ether",
        ifalias: `vpccni vpc c1 eth0`,
      },
    ],
    routes: [
      { dst: "10.0.1.0/24", dev: "eth1", table: "2003" },
      { dst: "default", gateway: "10.0.1.1", dev: "eth1", table: "2003" },
      { type: "prohibit", dst: "169.254.0.23", table: "2003" },
      { dst: "10.0.1.5", dev: veth },
    ],
    rules: [
      { priority: 0, table: "local" },
      { priority: 512, dst: "10.0.1.5", table: "main" },
      { priority: 1536, src: "10.0.1.5", table: "2003" },
    ],
  };
}

describe("planRepair", () => {
  test("nothing to do when everything is in place", () => {
    expect(planRepair(desired, healthy(), 2000)).toEqual({ lines: [], rewire: [], fixed: [], missingEnis: [] });
  });

  test("re-adds a missing to-pod rule, from-pod rule and host route", () => {
    const o = healthy();
    o.rules = o.rules.filter((r) => r.priority === 0);
    o.routes = o.routes.filter((r) => r.table === "2003");
    expect(planRepair(desired, o, 2000).lines).toEqual([
      `route replace 10.0.1.5/32 dev ${veth} scope link`,
      "rule add to 10.0.1.5/32 lookup main pref 512",
      "rule add from 10.0.1.5/32 lookup 2003 pref 1536",
    ]);
  });

  test("re-fills the ENI table (ifindex 3 + base 2000) and brings the link up", () => {
    const o = healthy();
    o.links[0]!.flags = [];
    o.routes = o.routes.filter((r) => r.table !== "2003");
    expect(planRepair(desired, o, 2000).lines).toEqual([
      "link set dev eth1 up",
      "route replace 10.0.1.0/24 dev eth1 scope link table 2003",
      "route replace default via 10.0.1.1 dev eth1 onlink table 2003",
      "route replace prohibit 169.254.0.23/32 table 2003",
    ]);
  });

  test("a from-pod rule pointing at the wrong table is replaced", () => {
    const o = healthy();
    o.rules[2]!.table = "2004";
    expect(planRepair(desired, o, 2000).lines).toEqual([
      "rule del from 10.0.1.5/32 lookup 2004 pref 1536",
      "rule add from 10.0.1.5/32 lookup 2003 pref 1536",
    ]);
  });

  test("removes rules and veths no desired pod explains; leaves foreign rules alone", () => {
    const o = healthy();
    o.rules.push(
      { priority: 512, dst: "10.0.1.9", table: "main" },
      { priority: 1536, src: "10.0.1.9", table: "2003" },
      { priority: 100, src: "10.0.1.77", table: "7" },
    );
    o.links.push({ ifindex: 11, ifname: "vpcdeadbeef0000", flags: ["UP"], ifalias: "vpccni vpc gone eth0" });
    expect(planRepair(desired, o, 2000).lines).toEqual([
      "rule del to 10.0.1.9/32 lookup main pref 512",
      "rule del from 10.0.1.9/32 lookup 2003 pref 1536",
      "link del dev vpcdeadbeef0000",
    ]);
  });

  test("the rules and veth of a pod whose ADD or DEL is under way are left alone", () => {
    const o = healthy();
    // a pod being wired: its rules are in, its veth half set up; the pool does not list it yet
    o.rules.push({ priority: 512, dst: "10.0.1.9", table: "main" }, { priority: 1536, src: "10.0.1.9", table: "2003" });
    o.links.push({ ifindex: 11, ifname: "vpcdeadbeef0000", flags: [], ifalias: "vpccni vpc c9 eth0" });
    const busy = { ...desired, leaveAlone: { ips: ["10.0.1.9"], veths: ["vpcdeadbeef0000"] } };
    const plan = planRepair(busy, o, 2000);
    expect(plan.lines).toEqual([]);
    expect(plan.rewire).toEqual([]);
  });

  test("a pod whose veth is gone is re-wired; an ENI without a link is reported", () => {
    const o = healthy();
    o.links = [];
    const plan = planRepair(desired, o, 2000);
    expect(plan.rewire).toEqual([pod]);
    expect(plan.missingEnis).toEqual([eni.mac]);
  });

  test("the metadata block of an ENI table is re-added, and removed when pods may reach the service", () => {
    const o = healthy();
    o.routes = o.routes.filter((r) => r.type !== "prohibit");
    expect(planRepair(desired, o, 2000).lines).toEqual(["route replace prohibit 169.254.0.23/32 table 2003"]);
    expect(planRepair(desired, o, 2000, false).lines).toEqual([]);
    expect(planRepair(desired, healthy(), 2000, false).lines).toEqual([
      "route del prohibit 169.254.0.23/32 table 2003",
    ]);
  });
});
