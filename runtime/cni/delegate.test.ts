// Mixed mode's delegation with the real reference plugins (bridge, host-local, portmap,
// loopback) in test-bed namespaces: runCni in this process, each delegated plugin executed
// inside the node namespace as a runtime would, the agent injected (it only answers who owns
// a pod here; test/e2e/mixed-mode.test.ts runs the real agent).
import { addAnswer } from "./answer-kit.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { paths } from "../../sandbox/paths.ts";
import { requireBinary, requireCni, requirePrereq } from "../../sandbox/prereq.ts";
import { createTestBed, type NodeNs, type PodNs, type TestBed } from "../../sandbox/test-bed.ts";
import type { AgentCall } from "./commands.ts";
import { localHost } from "./host.ts";
import { runCni, type CniDeps } from "./commands.ts";
import { parseDelegateList, type PluginExec, versionAtLeast } from "./delegate.ts";
import { CniCode, CniError } from "./protocol.ts";

const VPC_ANSWER = addAnswer("10.231.8.50");

let bed: TestBed;
let node: NodeNs;
let dir: string;
const ipam = () => join(dir, "ipam");
const cache = () => join(dir, "cache");

function bridgeList(name: string, withPortmap = false, subnet = "10.244.1.0/24"): Record<string, unknown> {
  return {
    cniVersion: "1.0.0",
    name,
    plugins: [
      {
        type: "bridge",
        bridge: "cni0",
        isGateway: true,
        ipMasq: false,
        ipam: { type: "host-local", dataDir: ipam(), ranges: [[{ subnet }]], routes: [{ dst: "0.0.0.0/0" }] },
      },
      ...(withPortmap ? [{ type: "portmap", capabilities: { portMappings: true }, snat: false }] : []),
    ],
  };
}

function writeDelegate(file: string, list: Record<string, unknown>): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(list));
  return path;
}

/** The agent's side, injected: pods named in `optedIn` are vpccni's; it remembers its attachments. */
function world(optedIn: string[] = []) {
  const held = new Set<string>();
  const calls: string[] = [];
  let down = false;
  const agent = (() =>
    (async (op: string, body: Record<string, string>) => {
      if (down) throw new CniError(CniCode.TryAgainLater, "cannot reach the node agent");
      calls.push(op);
      const key = `${body.network}/${body.containerId}/${body.ifname}`;
      switch (op) {
        case "owner":
          return held.has(key) || optedIn.includes(body.podName ?? "")
            ? { owner: "vpccni", reason: "annotated" }
            : { owner: "delegate", reason: "not annotated" };
        case "add":
          held.add(key);
          return VPC_ANSWER;
        case "del":
          return held.delete(key) ? { released: VPC_ANSWER.ip } : {};
        case "check":
          if (!held.has(key)) throw new CniError(CniCode.UnknownContainer, `the agent has no IP for ${key}`);
          return { ok: true };
        case "gc":
          return { released: [] };
        case "status":
          return { ready: false, idleIps: 0, message: "pool exhausted" };
      }
      throw new Error(`unexpected ${op}`);
    }) as AgentCall) as CniDeps["agent"];
  /** Each delegated plugin, executed inside the node namespace; its outputs are kept for comparison. */
  const runs: { binary: string; command: string; stdout: string }[] = [];
  const exec: PluginExec = async (binary, env, stdin) => {
    const proc = Bun.spawn(["ip", "netns", "exec", node.ns, binary], {
      env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)),
      stdin: new Blob([stdin]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    runs.push({ binary, command: env.CNI_COMMAND ?? "", stdout });
    return { stdout, exitCode: code };
  };
  const deps: CniDeps = { agent, exists: existsSync, host: { ...localHost, exec } };
  return {
    deps,
    calls,
    runs,
    held,
    setDown: (d: boolean) => {
      down = d;
    },
  };
}

function cni(w: ReturnType<typeof world>, command: string, pod: PodNs, conf: Record<string, unknown>, name = pod.name) {
  const env = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: `ctr-${pod.name}`,
    CNI_NETNS: pod.path,
    CNI_IFNAME: "eth0",
    CNI_PATH: `/nonexistent:${paths.cniPluginDir}`,
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${name}`,
  };
  return runCni(env, JSON.stringify({ cniVersion: "1.0.0", name: "vpccni", type: "vpccni", ...conf }), w.deps);
}

const mixed = (delegate: string, extra: Record<string, unknown> = {}) => ({
  delegate: { conflist: delegate, cacheDir: cache() },
  ...extra,
});
const recordsOf = () => {
  const d = join(cache(), "delegated", "vpccni");
  return existsSync(d) ? readdirSync(d).sort() : [];
};
const podAddr = async (pod: PodNs) => bed.ip(pod.ns, "-4", "-o", "addr", "show", "dev", "eth0").catch(() => "");

beforeAll(async () => {
  requireCni();
  for (const p of ["bridge", "portmap"]) requireBinary(`reference CNI plugin ${p}`, join(paths.cniPluginDir, p));
  requirePrereq("iptables-save", () => Bun.which("iptables-save") !== null || "`iptables-save` is not on PATH");
  bed = await createTestBed({ subnet: "10.231.0.0/24" });
  node = await bed.addNode({ name: "n1" });
  dir = makeTempDir("delegate");
  mkdirSync(ipam(), { recursive: true });
}, 60_000);

afterAll(async () => {
  await bed?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("mixed mode: delegation to the node's previous configuration", () => {
  test("an un-annotated pod goes to bridge + host-local: the result is the delegate's, byte for byte, and recorded", async () => {
    const w = world();
    const pod = await bed.addPod({ name: "plain" });
    const delegate = writeDelegate("bridge.conflist", bridgeList("cbr0"));
    const out = await cni(w, "ADD", pod, mixed(delegate));
    expect({ code: out.exitCode, stdout: out.stdout }).toMatchObject({ code: 0 });
    expect(w.calls).toEqual(["owner"]);
    expect(w.runs.map((r) => [r.binary, r.command])).toEqual([[join(paths.cniPluginDir, "bridge"), "ADD"]]);
    // Passed through unchanged: the very bytes bridge printed, not a re-serialisation.
    expect(out.verbatim).toBe(true);
    expect(out.stdout).toBe(w.runs[0]!.stdout);
    const result = JSON.parse(out.stdout);
    expect(result.ips[0].address).toMatch(/^10\.244\.1\.\d+\/24$/);
    expect(await podAddr(pod)).toContain(result.ips[0].address);
    expect(await bed.ip(node.ns, "link", "show", "cni0")).toContain("cni0");
    // The record names the configuration and the result, for the DEL and CHECK to come.
    expect(recordsOf()).toEqual([`ctr-plain@eth0`]);
    const record = JSON.parse(readFileSync(join(cache(), "delegated", "vpccni", "ctr-plain@eth0"), "utf8"));
    expect(record).toEqual({ version: "vpccni-delegate/1", conflist: bridgeList("cbr0"), result });

    // CHECK goes to bridge with the ADD's result, without asking the agent.
    const check = await cni(w, "CHECK", pod, mixed(delegate, { prevResult: result }));
    expect({ code: check.exitCode, stdout: check.stdout }).toEqual({ code: 0, stdout: "" });
    expect(w.runs.at(-1)?.command).toBe("CHECK");

    // CHECK finds a difference: bridge's own error, passed through.
    await bed.ip(pod.ns, "addr", "flush", "dev", "eth0");
    const broken = await cni(w, "CHECK", pod, mixed(delegate, { prevResult: result }));
    expect(broken.exitCode).toBe(1);
    expect(broken.stdout).toBe(w.runs.at(-1)!.stdout);
    expect(JSON.parse(broken.stdout).msg).toContain("eth0");

    // DEL: bridge and host-local undo it; the record goes; the agent was never asked.
    const del = await cni(w, "DEL", pod, mixed(delegate, { prevResult: result }));
    expect({ code: del.exitCode, stdout: del.stdout }).toEqual({ code: 0, stdout: "" });
    expect(w.calls).toEqual(["owner"]);
    expect(await podAddr(pod)).toBe("");
    expect(readdirSync(join(ipam(), "cbr0")).filter((f) => f.startsWith("10."))).toEqual([]);
    expect(recordsOf()).toEqual([]);

    // A second DEL (no record now): the agent holds nothing, so it goes to the delegate again; both are idempotent.
    const again = await cni(w, "DEL", pod, mixed(delegate));
    expect({ code: again.exitCode, stdout: again.stdout }).toEqual({ code: 0, stdout: "" });
    expect(w.calls).toEqual(["owner", "del"]);
  });

  test("an annotated pod is the agent's: no delegate runs and nothing is recorded, and its DEL stays with the agent", async () => {
    const w = world(["annotated"]);
    const pod = await bed.addPod({ name: "annotated" });
    const delegate = writeDelegate("bridge.conflist", bridgeList("cbr0"));
    const out = await cni(w, "ADD", pod, mixed(delegate));
    expect(out.exitCode).toBe(0);
    expect(JSON.parse(out.stdout).ips).toEqual([{ address: "10.231.8.50/32", gateway: "169.254.1.1", interface: 1 }]);
    expect(w.calls).toEqual(["owner", "add"]);
    expect(w.runs).toEqual([]);
    expect(recordsOf()).toEqual([]);
    const check = await cni(w, "CHECK", pod, mixed(delegate, { prevResult: JSON.parse(out.stdout) }));
    expect(check.exitCode, check.stdout).toBe(0);
    const del = await cni(w, "DEL", pod, mixed(delegate));
    expect(del.exitCode).toBe(0);
    expect(w.calls).toEqual(["owner", "add", "check", "del"]);
    expect(w.runs).toEqual([]);
  });

  test("a pod the previous CNI wired before vpccni came: CHECK and DEL reach it through the agent's 'not mine'", async () => {
    const w = world();
    const pod = await bed.addPod({ name: "before" });
    const list = bridgeList("cbr0");
    const delegate = writeDelegate("bridge.conflist", list);
    // The previous CNI's ADD, executed as the old runtime did (no vpccni involved).
    const plugin = (list.plugins as Record<string, unknown>[])[0]!;
    const add = await bed.exec(node.ns, [join(paths.cniPluginDir, "bridge")], {
      input: JSON.stringify({ ...plugin, cniVersion: "1.0.0", name: "cbr0" }),
      env: {
        CNI_COMMAND: "ADD",
        CNI_CONTAINERID: "ctr-before",
        CNI_NETNS: pod.path,
        CNI_IFNAME: "eth0",
        CNI_PATH: paths.cniPluginDir,
      },
    });
    expect(add.code, add.stdout + add.stderr).toBe(0);
    const result = JSON.parse(add.stdout);
    const check = await cni(w, "CHECK", pod, mixed(delegate, { prevResult: result }));
    expect({ code: check.exitCode, stdout: check.stdout }).toEqual({ code: 0, stdout: "" });
    expect(w.calls).toEqual(["check"]);
    const del = await cni(w, "DEL", pod, mixed(delegate, { prevResult: result }));
    expect({ code: del.exitCode, stdout: del.stdout }).toEqual({ code: 0, stdout: "" });
    expect(w.calls).toEqual(["check", "del"]);
    expect(w.runs.map((r) => r.command)).toEqual(["CHECK", "DEL"]);
    expect(await podAddr(pod)).toBe("");
  });

  test("runtimeConfig reaches the delegated plugins that declare the capability (portmap's hostPort DNAT)", async () => {
    const w = world();
    const pod = await bed.addPod({ name: "ports" });
    const delegate = writeDelegate("bridge-portmap.conflist", bridgeList("cbr0", true));
    const runtimeConfig = { portMappings: [{ hostPort: 18080, containerPort: 80, protocol: "tcp" }] };
    const out = await cni(w, "ADD", pod, mixed(delegate, { runtimeConfig }));
    expect(out.exitCode, out.stdout).toBe(0);
    expect(w.runs.map((r) => r.binary.split("/").at(-1))).toEqual(["bridge", "portmap"]);
    const ip = JSON.parse(out.stdout).ips[0].address.split("/")[0];
    const rules = (await bed.execOk(node.ns, ["iptables-save", "-t", "nat"])).split("\n");
    expect(rules.some((r) => r.includes("--dport 18080") && r.includes(`--to-destination ${ip}:80`))).toBe(true);
    // DEL runs the list in reverse: portmap first, then bridge.
    const del = await cni(w, "DEL", pod, mixed(delegate, { runtimeConfig }));
    expect(del.exitCode, del.stdout).toBe(0);
    expect(w.runs.slice(2).map((r) => r.binary.split("/").at(-1))).toEqual(["portmap", "bridge"]);
    expect(await bed.execOk(node.ns, ["iptables-save", "-t", "nat"])).not.toContain("18080");
  });

  test("a delegate's failure is passed through unchanged, and the record lets the runtime's DEL clean up", async () => {
    const w = world();
    const pod = await bed.addPod({ name: "full" });
    // A /30 with host-local: two addresses, both taken by other containers' reservations below.
    const delegate = writeDelegate("tiny.conflist", bridgeList("tiny", false, "10.244.9.0/30"));
    mkdirSync(join(ipam(), "tiny"), { recursive: true });
    for (const ip of ["10.244.9.1", "10.244.9.2"]) writeFileSync(join(ipam(), "tiny", ip), "other\neth0");
    const out = await cni(w, "ADD", pod, mixed(delegate));
    expect(out.exitCode).toBe(1);
    expect(out.verbatim).toBe(true);
    expect(out.stdout).toBe(w.runs[0]!.stdout);
    expect(JSON.parse(out.stdout).msg).toContain("no IP addresses available");
    expect(recordsOf()).toEqual(["ctr-full@eth0"]);
    const del = await cni(w, "DEL", pod, mixed(delegate));
    expect(del.exitCode, del.stdout).toBe(0);
    expect(recordsOf()).toEqual([]);
    expect(w.calls).toEqual(["owner"]);
  });

  test("a single-plugin .conf delegate (loopback) is run as a list of one", async () => {
    const w = world();
    const pod = await bed.addPod({ name: "lo" });
    await bed.ip(pod.ns, "link", "set", "lo", "down");
    const delegate = writeDelegate("99-loopback.conf", { cniVersion: "1.0.0", name: "lo", type: "loopback" });
    const out = await cni(w, "ADD", pod, mixed(delegate));
    expect(out.exitCode, out.stdout).toBe(0);
    expect(JSON.parse(out.stdout).interfaces[0].name).toBe("lo");
    expect(await bed.ip(pod.ns, "link", "show", "lo")).toContain("UP");
    expect((await cni(w, "DEL", pod, mixed(delegate))).exitCode).toBe(0);
  });

  test("the agent unreachable: ADD answers try again later, runs no delegate and records nothing", async () => {
    const w = world();
    w.setDown(true);
    const pod = await bed.addPod({ name: "nobody" });
    const out = await cni(w, "ADD", pod, mixed(writeDelegate("bridge.conflist", bridgeList("cbr0"))));
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout).code).toBe(CniCode.TryAgainLater);
    expect(w.runs).toEqual([]);
    expect(recordsOf()).toEqual([]);
  });

  test("a missing kept configuration or plugin is a clear error 7, before anything runs", async () => {
    const w = world();
    const pod = await bed.addPod({ name: "nokept" });
    const out = await cni(w, "ADD", pod, mixed(join(dir, "missing.conflist")));
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 7 });
    expect(JSON.parse(out.stdout).msg).toContain(
      `delegate configuration ${join(dir, "missing.conflist")} cannot be read`,
    );
    const noPlugin = writeDelegate("weave.conflist", {
      cniVersion: "1.0.0",
      name: "weave",
      plugins: [{ type: "weave-net" }],
    });
    const out2 = await cni(w, "ADD", pod, mixed(noPlugin));
    expect(JSON.parse(out2.stdout).msg).toBe(
      `delegate plugin weave-net is not in CNI_PATH (/nonexistent, ${paths.cniPluginDir})`,
    );
    expect(w.runs).toEqual([]);
    expect(recordsOf()).toEqual([]);
  });

  test("GC drops the records of attachments the runtime no longer lists; STATUS ignores the VPC pool's exhaustion", async () => {
    const w = world();
    const delegate = writeDelegate("bridge.conflist", bridgeList("cbr0"));
    const a = await bed.addPod({ name: "gca" });
    const b = await bed.addPod({ name: "gcb" });
    for (const p of [a, b]) expect((await cni(w, "ADD", p, mixed(delegate))).exitCode).toBe(0);
    expect(recordsOf()).toEqual(["ctr-gca@eth0", "ctr-gcb@eth0"]);
    const call = (command: string, extra: Record<string, unknown> = {}) =>
      runCni(
        { CNI_COMMAND: command, CNI_PATH: paths.cniPluginDir, PATH: process.env.PATH },
        JSON.stringify({ cniVersion: "1.1.0", name: "vpccni", type: "vpccni", ...mixed(delegate), ...extra }),
        w.deps,
      );
    const gc = await call("GC", { "cni.dev/valid-attachments": [{ containerID: "ctr-gca", ifname: "eth0" }] });
    expect({ code: gc.exitCode, stdout: gc.stdout }).toEqual({ code: 0, stdout: "" });
    expect(recordsOf()).toEqual(["ctr-gca@eth0"]);
    // The agent is ready = false here; in mixed mode the node's other pods must not be refused for it.
    const status = await call("STATUS");
    expect({ code: status.exitCode, stdout: status.stdout }).toEqual({ code: 0, stdout: "" });
    // The reference plugins speak CNI up to 1.0.0: neither GC nor STATUS exists for them, so none ran.
    expect(w.runs.map((r) => r.command)).toEqual(["ADD", "ADD"]);
    expect(w.calls).toEqual(["owner", "owner", "gc", "status"]);
    for (const p of [a, b]) expect((await cni(w, "DEL", p, mixed(delegate))).exitCode).toBe(0);
  });
});

describe("delegate configuration", () => {
  test("a .conf becomes a list of one; bad ones are refused naming the file and what is allowed", () => {
    expect(parseDelegateList('{"cniVersion":"0.4.0","name":"x","type":"ptp","ipam":{}}', "f")).toEqual({
      cniVersion: "0.4.0",
      name: "x",
      plugins: [{ type: "ptp", ipam: {} }],
    });
    expect(() => parseDelegateList('{"cniVersion":"1.0.0","name":"x","plugins":[]}', "/k")).toThrow(
      "delegate configuration /k: plugins is empty; allowed: a CNI .conflist or .conf",
    );
    expect(() => parseDelegateList('{"name":"x","type":"ptp"}', "/k")).toThrow("cniVersion is undefined");
    expect(() => parseDelegateList("{", "/k")).toThrow("delegate configuration /k is not JSON");
  });

  test("versions compare by number", () => {
    expect(versionAtLeast("1.0.0", "0.4.0")).toBe(true);
    expect(versionAtLeast("0.3.1", "0.4.0")).toBe(false);
    expect(versionAtLeast("1.1.0", "1.1.0")).toBe(true);
    expect(versionAtLeast("0.10.0", "0.4.0")).toBe(true);
  });
});
