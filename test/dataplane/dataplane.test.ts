// The data plane against the real kernel, in test-bed namespaces: two nodes, one ENI each,
// pods wired by IprouteDataPlane, packets through the `vpc` router.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  FROM_POD_PRIORITY,
  hostVethName,
  IprouteDataPlane,
  TO_POD_PRIORITY,
  type PodSpec,
} from "../../runtime/net/index.ts";
import { readlinkSync } from "node:fs";
import { runOk } from "../../sandbox/exec.ts";
import type { PodNs } from "../../sandbox/test-bed.ts";
import { requireDataPlaneTools } from "./cni-kit.ts";
import { makeEniBed, ping, rxPackets, type EniBed } from "./eni-bed-kit.ts";

let w: EniBed;
let pods: { pod: PodNs; spec: PodSpec }[];

async function addPod(nodeIdx: number, ip: string, name: string) {
  const n = w.nodes[nodeIdx]!;
  const pod = await w.bed.addPod({ name });
  await w.fabric.onAssign(n.eni, [ip]);
  const spec: PodSpec = {
    network: "vpccni",
    containerId: `c-${name}`,
    ifname: "eth0",
    netns: pod.path,
    ip,
    table: n.link.table,
  };
  await n.dp.wirePod(spec);
  return { pod, spec };
}

beforeAll(async () => {
  requireDataPlaneTools();
  w = await makeEniBed(2);
  pods = [
    await addPod(0, "10.231.8.101", "a"),
    await addPod(1, "10.231.8.102", "b"),
    await addPod(0, "10.231.8.103", "c"),
  ];
}, 60_000);

afterAll(async () => {
  await w?.bed.destroy();
});

describe("data plane in namespaces", () => {
  test("ENI route table number is exactly ifindex + 2000, holding subnet and default routes", async () => {
    for (const n of w.nodes) {
      const [link] = JSON.parse(await w.bed.ip(n.node.ns, "-json", "link", "show", "dev", n.link.name)) as {
        ifindex: number;
      }[];
      expect(n.link.table).toBe(link!.ifindex + 2000);
      const routes = await w.bed.ip(n.node.ns, "route", "show", "table", String(link!.ifindex + 2000));
      expect(routes).toContain(`10.231.8.0/24 dev ${n.link.name} scope link`);
      expect(routes).toContain(`default via 10.231.8.1 dev ${n.link.name} onlink`);
    }
  });

  test("rp_filter is 0 on all, eth0 and the ENI; forwarding is on", async () => {
    const n = w.nodes[0]!;
    const out = await w.bed.execOk(n.node.ns, [
      "sysctl",
      "-n",
      "net.ipv4.conf.all.rp_filter",
      "net.ipv4.conf.eth0.rp_filter",
      `net.ipv4.conf.${n.link.name}.rp_filter`,
      "net.ipv4.ip_forward",
    ]);
    expect(out.trim().split("\n")).toEqual(["0", "0", "0", "1"]);
  });

  test("rules: to-pod at 512 via main, from-pod at 1536 to the ENI table", async () => {
    const rules = await w.bed.ip(w.nodes[0]!.node.ns, "rule", "show");
    expect(rules).toContain(`${TO_POD_PRIORITY}:\tfrom all to 10.231.8.101 lookup main`);
    expect(rules).toContain(`${FROM_POD_PRIORITY}:\tfrom 10.231.8.101 lookup ${w.nodes[0]!.link.table}`);
  });

  test("pods on two nodes reach each other, and same-node pods too", async () => {
    expect(await ping(w.bed, pods[0]!.pod.ns, "10.231.8.102")).toBe(true);
    expect(await ping(w.bed, pods[1]!.pod.ns, "10.231.8.101")).toBe(true);
    expect(await ping(w.bed, pods[0]!.pod.ns, "10.231.8.103")).toBe(true);
  });

  test("a pod's traffic leaves through its ENI, not eth0 (counters on the vpc-side peers)", async () => {
    const n = w.nodes[0]!;
    const eniPeer = w.fabric.eni(n.eni.eniId)!.vpcPeer;
    const [eni0, eth0] = [
      await rxPackets(w.bed, w.bed.vpc, eniPeer),
      await rxPackets(w.bed, w.bed.vpc, n.node.vpcPeer),
    ];
    expect(await ping(w.bed, pods[0]!.pod.ns, "10.231.8.102", 5)).toBe(true);
    const [eni1, eth1] = [
      await rxPackets(w.bed, w.bed.vpc, eniPeer),
      await rxPackets(w.bed, w.bed.vpc, n.node.vpcPeer),
    ];
    expect(eni1 - eni0).toBeGreaterThanOrEqual(5);
    expect(eth1 - eth0).toBeLessThan(5);
  });

  test("the cloud must agree: an unassigned IP stops flowing, re-assigning restores it", async () => {
    const n = w.nodes[1]!;
    await w.fabric.onUnassign(n.eni, ["10.231.8.102"]);
    expect(await ping(w.bed, pods[0]!.pod.ns, "10.231.8.102")).toBe(false);
    await w.fabric.onAssign(n.eni, ["10.231.8.102"]);
    expect(await ping(w.bed, pods[0]!.pod.ns, "10.231.8.102")).toBe(true);
  });

  test("listPods reads back what is wired", async () => {
    const listed = await w.nodes[0]!.dp.listPods();
    expect(listed.map((p) => [p.containerId, p.ip, p.table]).sort()).toEqual([
      ["c-a", "10.231.8.101", w.nodes[0]!.link.table],
      ["c-c", "10.231.8.103", w.nodes[0]!.link.table],
    ]);
  });

  test("checkPod is clean when wired and names what a deletion broke", async () => {
    const n = w.nodes[0]!;
    expect(await n.dp.checkPod(pods[0]!.spec)).toEqual([]);
    await w.bed.ip(n.node.ns, "rule", "del", "from", "10.231.8.101", "pref", String(FROM_POD_PRIORITY));
    expect(await n.dp.checkPod(pods[0]!.spec)).toEqual([
      `rule from 10.231.8.101 lookup ${n.link.table} (pref 1536) missing`,
    ]);
  });

  test("repair re-creates deleted rules, routes and sysctls, and traffic flows again", async () => {
    const n = w.nodes[0]!;
    const ns = n.node.ns;
    await w.bed.ip(ns, "rule", "del", "to", "10.231.8.101", "pref", String(TO_POD_PRIORITY));
    await w.bed.ip(ns, "route", "del", "default", "table", String(n.link.table));
    await w.bed.ip(ns, "route", "del", "10.231.8.101/32");
    await w.bed.sysctl(ns, `net.ipv4.conf.${n.link.name}.rp_filter`, "1");
    await w.bed.sysctl(ns, "net.ipv4.conf.all.rp_filter", "1");
    expect(await ping(w.bed, pods[1]!.pod.ns, "10.231.8.101")).toBe(false);
    const desired = { primaryInterface: "eth0", enis: [n.eniSpec], pods: [pods[0]!.spec, pods[2]!.spec] };
    const report = await n.dp.repair(desired);
    expect(report.fixed.sort()).toEqual(
      [
        `net.ipv4.conf.${n.link.name}.rp_filter: 1 -> 0`,
        "net.ipv4.conf.all.rp_filter: 1 -> 0",
        `route replace default via 10.231.8.1 dev ${n.link.name} onlink table ${n.link.table} (ENI ${n.link.name})`,
        `route 10.231.8.101/32 dev ${hostVethName(pods[0]!.spec)} re-added`,
        "rule from 10.231.8.101 lookup " + n.link.table + " re-added",
        "rule to 10.231.8.101 lookup main re-added",
      ].sort(),
    );
    expect(await n.dp.checkPod(pods[0]!.spec)).toEqual([]);
    expect(await ping(w.bed, pods[1]!.pod.ns, "10.231.8.101")).toBe(true);
    expect((await n.dp.repair(desired)).fixed).toEqual([]);
  });

  test("manageRpFilter false: repair leaves rp_filter alone", async () => {
    const n = w.nodes[0]!;
    await w.bed.sysctl(n.node.ns, `net.ipv4.conf.${n.link.name}.rp_filter`, "2");
    const hands = new IprouteDataPlane({ netns: n.node.ns, manageRpFilter: false });
    const report = await hands.repair({
      primaryInterface: "eth0",
      enis: [n.eniSpec],
      pods: [pods[0]!.spec, pods[2]!.spec],
    });
    expect(report.fixed).toEqual([]);
    expect((await w.bed.execOk(n.node.ns, ["sysctl", "-n", `net.ipv4.conf.${n.link.name}.rp_filter`])).trim()).toBe(
      "2",
    );
    await n.dp.ensureSysctls("eth0", [n.link.name]);
  });

  test("repair removes a veth and rules that no desired pod explains", async () => {
    const n = w.nodes[0]!;
    const report = await n.dp.repair({ primaryInterface: "eth0", enis: [n.eniSpec], pods: [pods[0]!.spec] });
    expect(report.fixed.filter((f) => f.startsWith("stale")).length).toBe(3);
    expect((await n.dp.listPods()).map((p) => p.containerId)).toEqual(["c-a"]);
    expect(await w.bed.ip(n.node.ns, "rule", "show")).not.toContain("10.231.8.103");
  });

  test("unwire removes everything, also when the pod netns is gone, and is idempotent", async () => {
    const n = w.nodes[1]!;
    const spec = pods[1]!.spec;
    // the pod's netns is gone first (the runtime tore the sandbox down before DEL)
    await runOk(["ip", "netns", "del", pods[1]!.pod.ns]);
    await n.dp.unwirePod(spec, spec.ip);
    await n.dp.unwirePod(spec, spec.ip);
    expect(await n.dp.listPods()).toEqual([]);
    expect(await w.bed.ip(n.node.ns, "rule", "show")).not.toContain(spec.ip);
    expect(await w.bed.ip(n.node.ns, "route", "show")).not.toContain(spec.ip);
  });

  test("a netns reused right after DEL: the next attachment waits for the old veth to go", async () => {
    const n = w.nodes[1]!;
    const pod = await w.bed.addPod({ name: "reuse" });
    const first: PodSpec = {
      network: "vpccni",
      containerId: "c-first",
      ifname: "eth0",
      netns: pod.path,
      ip: "10.231.8.121",
      table: n.link.table,
    };
    const second: PodSpec = { ...first, containerId: "c-second", ip: "10.231.8.122" };
    await n.dp.wirePod(first);
    await n.dp.unwirePod(first, first.ip);
    await n.dp.wirePod(second);
    expect(await n.dp.checkPod(second)).toEqual([]);
    expect((await n.dp.listPods()).map((p) => p.containerId)).toEqual(["c-second"]);
    await n.dp.unwirePod(second, second.ip);
    await n.dp.settle();
    expect(await n.dp.listPods()).toEqual([]);
  });

  test("leftover rules and veth of a crashed ADD for the same IP do not block the next one", async () => {
    const n = w.nodes[1]!;
    const pod = await w.bed.addPod({ name: "crash" });
    const spec: PodSpec = {
      network: "vpccni",
      containerId: "c-crash",
      ifname: "eth0",
      netns: pod.path,
      ip: "10.231.8.125",
      table: n.link.table,
    };
    await w.bed.ip(n.node.ns, "rule", "add", "to", spec.ip, "lookup", "main", "pref", "512");
    await w.bed.ip(n.node.ns, "rule", "add", "from", spec.ip, "lookup", String(n.link.table), "pref", "1536");
    await n.dp.wirePod(spec);
    expect(await n.dp.checkPod(spec)).toEqual([]);
    const rules = (await w.bed.ip(n.node.ns, "rule", "show")).split("\n").filter((l) => l.includes(spec.ip));
    expect(rules.length).toBe(2);
    await n.dp.unwirePod(spec, spec.ip);
    expect(await w.bed.ip(n.node.ns, "rule", "show")).not.toContain(spec.ip);
  });

  test("a failed wiring leaves nothing behind", async () => {
    const n = w.nodes[1]!;
    const spec: PodSpec = {
      network: "vpccni",
      containerId: "c-bad",
      ifname: "eth0",
      netns: "/var/run/netns/does-not-exist-vpccni",
      ip: "10.231.8.120",
      table: n.link.table,
    };
    await expect(n.dp.wirePod(spec)).rejects.toThrow(/does-not-exist/);
    expect(await n.dp.listPods()).toEqual([]);
    expect(await w.bed.ip(n.node.ns, "rule", "show")).not.toContain("10.231.8.120");
    expect(await w.bed.ip(n.node.ns, "-o", "link", "show")).not.toMatch(/^\d+: vpc/m);
  });

  test("wiring through netlink: this thread ends in its own namespace, unwiring removes any from-pod rule, a step refused in the pod undoes the node side", async () => {
    const n = w.nodes[1]!;
    const dp = new IprouteDataPlane({ netns: n.node.ns });
    const own = readlinkSync("/proc/thread-self/ns/net");
    const pod = await w.bed.addPod({ name: "nl" });
    await w.fabric.onAssign(n.eni, ["10.231.8.130"]);
    const key = { network: "vpccni", containerId: "c-nl", ifname: "eth0" };
    const spec: PodSpec = { ...key, netns: pod.path, ip: "10.231.8.130", table: n.link.table };
    const wiring = await dp.wirePod(spec);
    expect(readlinkSync("/proc/thread-self/ns/net")).toBe(own);
    expect(await dp.checkPod(spec)).toEqual([]);
    // What iproute2 shows of it: the alias that lists the pod, the /32 route, both rules.
    expect(await w.bed.ip(n.node.ns, "-o", "link", "show", wiring.hostVeth)).toContain("state UP");
    expect(await dp.listPods()).toEqual([wiring]);
    expect(await w.bed.ip(n.node.ns, "route", "show", "10.231.8.130/32")).toBe(
      `10.231.8.130 dev ${wiring.hostVeth} scope link \n`,
    );
    const rules = await w.bed.ip(n.node.ns, "rule", "show");
    expect(rules).toContain("from 10.231.8.130 lookup " + n.link.table);
    expect(rules).toContain("from all to 10.231.8.130 lookup main");
    // A from-pod rule to another table (a crash's leftover) goes too; a second DEL finds nothing.
    await w.bed.ip(n.node.ns, "rule", "add", "from", "10.231.8.130/32", "lookup", "3000", "pref", "1536");
    await dp.unwirePod(spec, spec.ip);
    expect(await w.bed.ip(n.node.ns, "rule", "show")).not.toContain("10.231.8.130");
    expect(await w.bed.ip(n.node.ns, "route", "show", "table", "main")).not.toContain("10.231.8.130");
    await dp.unwirePod(spec, spec.ip);
    await dp.settle();
    expect(await w.bed.ip(n.node.ns, "-o", "link", "show")).not.toContain(wiring.hostVeth);
    // A pod whose netns already routes the gateway: the pod side's route add is refused after
    // the node side was made. Nothing stays, on either side, and the error says what was refused.
    const taken = await w.bed.addPod({ name: "nl2" });
    await w.bed.ip(taken.ns, "link", "set", "lo", "up");
    await w.bed.ip(taken.ns, "route", "add", "169.254.1.1/32", "dev", "lo");
    const second: PodSpec = { ...spec, containerId: "c-nl2", netns: taken.path };
    await expect(dp.wirePod(second)).rejects.toThrow(/netlink route add 169.254.1.1\/32: File exists/);
    expect(readlinkSync("/proc/thread-self/ns/net")).toBe(own);
    await dp.settle();
    expect(await w.bed.ip(n.node.ns, "-o", "link", "show")).not.toMatch(/: vpc/);
    expect(await w.bed.ip(n.node.ns, "rule", "show")).not.toContain("10.231.8.130");
    expect(await w.bed.ip(taken.ns, "-o", "link", "show")).not.toContain("eth0");
    dp.close();
  });

  // Last: it takes node 0's pod and ENI table away.
  test("switching off: sysctls go back where they still hold vpccni's value; leftovers go, other tables stay", async () => {
    const n = w.nodes[0]!;
    const ns = n.node.ns;
    const read = async (key: string) => (await w.bed.execOk(ns, ["sysctl", "-n", key])).trim();
    await w.bed.sysctl(ns, "net.ipv4.ip_forward", "0");
    await w.bed.sysctl(ns, "net.ipv4.conf.all.rp_filter", "1");
    await w.bed.sysctl(ns, "net.ipv4.conf.default.rp_filter", "2");
    const changed = await n.dp.ensureSysctls("eth0", []);
    expect(changed.map((c) => `${c.key}: ${c.before} -> ${c.after}`).sort()).toEqual([
      "net.ipv4.conf.all.rp_filter: 1 -> 0",
      "net.ipv4.conf.default.rp_filter: 2 -> 0",
      "net.ipv4.ip_forward: 0 -> 1",
    ]);
    // Someone else changed default.rp_filter since: theirs stays.
    await w.bed.sysctl(ns, "net.ipv4.conf.default.rp_filter", "1");
    const restored = await n.dp.restoreSysctls(changed);
    expect(restored.map((c) => c.key).sort()).toEqual(["net.ipv4.conf.all.rp_filter", "net.ipv4.ip_forward"]);
    expect([
      await read("net.ipv4.ip_forward"),
      await read("net.ipv4.conf.all.rp_filter"),
      await read("net.ipv4.conf.default.rp_filter"),
    ]).toEqual(["0", "1", "1"]);

    // Another program's table and rule, numbered like an ENI table but not following the pattern.
    await w.bed.ip(ns, "route", "add", "blackhole", "192.0.2.0/24", "table", "2999");
    await w.bed.ip(ns, "rule", "add", "from", "192.0.2.1", "lookup", "2999", "pref", "700");
    const removed = await n.dp.removeLeftovers();
    expect(removed).toContain(`routes of table ${n.link.table}`);
    expect(removed).toContain(`veth ${hostVethName(pods[0]!.spec)}`);
    expect(await n.dp.listPods()).toEqual([]);
    const rules = await w.bed.ip(ns, "rule", "show");
    expect(rules).not.toMatch(/^(512|1536):/m);
    expect(rules).toContain("lookup 2999");
    expect(await w.bed.ip(ns, "route", "show", "table", String(n.link.table))).toBe("");
    expect(await w.bed.ip(ns, "route", "show", "table", "2999")).toContain("blackhole 192.0.2.0/24");
    expect(await n.dp.removeLeftovers()).toEqual([]);
  });
});
