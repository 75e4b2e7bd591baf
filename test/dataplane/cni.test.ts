// The compiled vpccni binary driven by cnitool (libcni v1.3.0) inside node namespaces, with
// the stub agent serving the socket protocol over the real data plane.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { PodNs } from "../../sandbox/test-bed.ts";
import { cnitool, execCni, makeRig, requireDataPlaneTools, vpccniPlugin, writeConf, type CniRig } from "./cni-kit.ts";
import { startStubAgent, type StubAgent } from "./stub-agent-kit.ts";
import { makeEniBed, ping, type EniBed } from "./eni-bed-kit.ts";

let w: EniBed;
const rigs: CniRig[] = [];
const agents: StubAgent[] = [];
const IPS = [
  ["10.231.8.101", "10.231.8.102", "10.231.8.103"],
  ["10.231.8.111", "10.231.8.112"],
];

beforeAll(async () => {
  requireDataPlaneTools();
  w = await makeEniBed(2);
  for (const [i, n] of w.nodes.entries()) {
    const rig = await makeRig();
    rigs.push(rig);
    await w.fabric.onAssign(n.eni, IPS[i]!);
    agents.push(startStubAgent({ socket: rig.socket, dp: n.dp, eniMac: n.eni.mac, table: n.link.table, ips: IPS[i]! }));
    writeConf(rig, "vpc", [vpccniPlugin(rig)]);
    writeConf(rig, "chain", [vpccniPlugin(rig), { type: "portmap", capabilities: { portMappings: true } }], "1.0.0");
    writeConf(rig, "old", [vpccniPlugin(rig), { type: "portmap", capabilities: { portMappings: true } }], "0.4.0");
  }
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  await w?.bed.destroy();
  for (const r of rigs) r.remove();
});

const tool = (i: number, cmd: string, pod: PodNs, net = "vpc", env: Record<string, string> = {}) =>
  cnitool(w.bed, w.nodes[i]!.node, rigs[i]!, cmd, net, pod.path, env);
const ok = async (p: ReturnType<typeof tool>) => {
  const r = await p;
  if (r.code !== 0) throw new Error(`cnitool failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};

describe("vpccni under cnitool", () => {
  let a: PodNs;
  let b: PodNs;

  test("ADD on two nodes gives each pod an ENI IP; they reach each other through vpc", async () => {
    a = await w.bed.addPod({ name: "a" });
    b = await w.bed.addPod({ name: "b" });
    const ra = JSON.parse(await ok(tool(0, "add", a)));
    const rb = JSON.parse(await ok(tool(1, "add", b)));
    expect(ra.cniVersion).toBe("1.1.0");
    expect(ra.ips).toEqual([{ address: "10.231.8.101/32", gateway: "169.254.1.1", interface: 1 }]);
    expect(ra.interfaces[1]).toMatchObject({ name: "eth0", sandbox: a.path });
    expect(rb.ips[0].address).toBe("10.231.8.111/32");
    expect(await ping(w.bed, a.ns, "10.231.8.111")).toBe(true);
    expect(await ping(w.bed, b.ns, "10.231.8.101")).toBe(true);
  });

  test("cnitool's result cache is the rig's folder, never the host's /var/lib/cni", () => {
    const ours = readdirSync(join(rigs[0]!.root, "cache", "results"));
    expect(ours.length).toBeGreaterThan(0);
    const host = existsSync("/var/lib/cni/results") ? readdirSync("/var/lib/cni/results") : [];
    expect(host.filter((f) => ours.includes(f))).toEqual([]);
  });

  test("CHECK passes on a wired pod and fails once a rule is gone", async () => {
    await ok(tool(0, "check", a));
    await w.bed.ip(w.nodes[0]!.node.ns, "rule", "del", "to", "10.231.8.101", "pref", "512");
    const r = await tool(0, "check", a);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("rule to 10.231.8.101 lookup main (pref 512) missing");
    await w.nodes[0]!.dp.repair({
      primaryInterface: "eth0",
      enis: [w.nodes[0]!.eniSpec],
      pods: [...agents[0]!.pods.values()],
    });
    await ok(tool(0, "check", a));
  });

  test("STATUS succeeds while the agent has idle IPs", async () => {
    await ok(tool(0, "status", a));
  });

  test("the agent socket is 0600 and curl can inspect it", async () => {
    expect(statSync(rigs[0]!.socket).mode & 0o777).toBe(0o600);
    const out =
      await Bun.$`curl -sS --max-time 5 --unix-socket ${rigs[0]!.socket} -H content-type:application/json -d ${'{"network":"vpc"}'} http://agent/v1/cni/status`.text();
    expect(JSON.parse(out)).toEqual({ ready: true, idleIps: 2 });
  });

  test("DEL unwires and returns the IP; a second DEL succeeds too", async () => {
    await ok(tool(1, "del", b));
    expect(await w.nodes[1]!.dp.listPods()).toEqual([]);
    expect(agents[1]!.free.sort()).toEqual(IPS[1]!);
    await ok(tool(1, "del", b));
  });

  test("DEL succeeds when the pod's netns is already gone", async () => {
    const c = await w.bed.addPod({ name: "c" });
    await ok(tool(1, "add", c));
    await Bun.$`ip netns del ${c.ns}`.quiet();
    await ok(tool(1, "del", c));
    expect(agents[1]!.pods.size).toBe(0);
    expect(await w.bed.ip(w.nodes[1]!.node.ns, "rule", "show")).not.toContain("10.231.8.11");
  });

  test("chains with portmap (CNI 1.0.0 conflist): DNAT to the pod IP on ADD, gone after DEL", async () => {
    const d = await w.bed.addPod({ name: "d" });
    const cap = {
      CAP_ARGS: JSON.stringify({ portMappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }),
    };
    const r = JSON.parse(await ok(tool(1, "add", d, "chain", cap)));
    expect(r.cniVersion).toBe("1.0.0");
    const ip = r.ips[0].address.split("/")[0];
    expect(await w.bed.execOk(w.nodes[1]!.node.ns, ["iptables-save", "-t", "nat"])).toContain(
      `--to-destination ${ip}:80`,
    );
    // no CHECK here: portmap 1.1.1's CHECK insists on an IPv6 chain it never made (its bug)
    await ok(tool(1, "del", d, "chain", cap));
    expect(await w.bed.execOk(w.nodes[1]!.node.ns, ["iptables-save", "-t", "nat"])).not.toContain(
      `--to-destination ${ip}:80`,
    );
    expect(agents[1]!.pods.size).toBe(0);
  });

  test("a CNI 0.4.0 conflist (older runtimes): ADD names the IP's version and DEL works, chained with portmap", async () => {
    const e = await w.bed.addPod({ name: "e" });
    const r = JSON.parse(await ok(tool(1, "add", e, "old")));
    expect(r.cniVersion).toBe("0.4.0");
    expect(r.ips).toHaveLength(1);
    expect(r.ips[0]).toMatchObject({ version: "4", gateway: "169.254.1.1" });
    const ip = r.ips[0].address.split("/")[0];
    expect([...agents[1]!.pods.values()].map((p) => p.ip)).toContain(ip);
    // no CHECK of the chain: portmap 1.1.1's CHECK insists on an IPv6 chain it never made (its bug)
    await ok(tool(1, "del", e, "old"));
    expect(agents[1]!.pods.size).toBe(0);
  });

  test("GC releases attachments the runtime does not list, keeps the ones it lists", async () => {
    const n = w.nodes[0]!;
    const leaked = await w.bed.addPod({ name: "leak" });
    const keep = await w.bed.addPod({ name: "keep" });
    const conf = (extra: object) =>
      JSON.stringify({ cniVersion: "1.1.0", name: "vpc", ...vpccniPlugin(rigs[0]!), ...extra });
    for (const [pod, id] of [
      [leaked, "leaked-1"],
      [keep, "keep-1"],
    ] as const) {
      const r = await execCni(w.bed, n.node, rigs[0]!, conf({}), {
        CNI_COMMAND: "ADD",
        CNI_CONTAINERID: id,
        CNI_NETNS: pod.path,
        CNI_IFNAME: "eth0",
        CNI_PATH: "/",
      });
      expect(r.code).toBe(0);
    }
    const valid = [
      { containerID: "keep-1", ifname: "eth0" },
      { containerID: [...agents[0]!.pods.values()].find((p) => p.netns === a.path)!.containerId, ifname: "eth0" },
    ];
    const gc = await execCni(w.bed, n.node, rigs[0]!, conf({ "cni.dev/valid-attachments": valid }), {
      CNI_COMMAND: "GC",
      CNI_PATH: "/",
    });
    expect(gc.code).toBe(0);
    expect([...agents[0]!.pods.values()].map((p) => p.containerId).sort()).toEqual(
      [valid[1]!.containerID, "keep-1"].sort(),
    );
    expect((await n.dp.listPods()).length).toBe(2);
    // cnitool's GC lists no valid attachments: it DELs its cached ones, then GC drops the rest
    await ok(tool(0, "gc", a));
    expect(agents[0]!.pods.size).toBe(0);
    expect(await n.dp.listPods()).toEqual([]);
    expect(agents[0]!.free.sort()).toEqual(IPS[0]!);
  });

  test("STATUS fails (error 50) with no idle IP and with the agent gone", async () => {
    const n = w.nodes[0]!;
    const conf = JSON.stringify({ cniVersion: "1.1.0", name: "vpc", ...vpccniPlugin(rigs[0]!) });
    const taken = agents[0]!.free.splice(0);
    const none = await execCni(w.bed, n.node, rigs[0]!, conf, { CNI_COMMAND: "STATUS", CNI_PATH: "/" });
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout)).toMatchObject({ code: 50 });
    expect((await tool(0, "status", a)).code).not.toBe(0);
    agents[0]!.free.push(...taken);
    await agents[0]!.stop();
    const gone = await execCni(w.bed, n.node, rigs[0]!, conf, { CNI_COMMAND: "STATUS", CNI_PATH: "/" });
    expect(JSON.parse(gone.stdout)).toMatchObject({ code: 50 });
    expect(JSON.parse(gone.stdout).msg).toContain("node agent unavailable");
    const add = await execCni(w.bed, n.node, rigs[0]!, conf, {
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "x",
      CNI_NETNS: a.path,
      CNI_IFNAME: "eth0",
      CNI_PATH: "/",
    });
    expect(JSON.parse(add.stdout)).toMatchObject({ code: 11 });
  });
});
