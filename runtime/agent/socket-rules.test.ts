// What the agent's listeners accept, whoever calls them: ADD and CHECK only for a pod's network
// namespace (never the agent's or init's, whatever the path), the plugin's interface-name rule,
// DNS-1123 pod names, and a TCP listener that refuses large bodies and drops idle connections.
// docs/security.md#socket-input-rules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestBed, type PodNs, type TestBed } from "../../sandbox/test-bed.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { type CniAgentApi, CniCode } from "../cni/protocol.ts";
import { type AgentServers, startServers } from "./http.ts";
import { AgentMetrics } from "./metrics.ts";
import { agentNetnsRule } from "./netns-guard.ts";

const ADDED = {
  ip: "10.0.1.5",
  prefixLength: 32,
  gateway: "169.254.1.1",
  eniMac: "52:54:00:00:00:01",
  routeTable: 1001,
  hostVeth: "vpc0123456789ab",
  hostMac: "52:54:00:00:00:02",
  podMac: "52:54:00:00:00:03",
};

describe("socket input rules", () => {
  let bed: TestBed;
  let pod: PodNs;
  let servers: AgentServers;
  let dir: string;
  let mounted: string | undefined;
  const calls: string[] = [];
  const api: CniAgentApi = {
    add: async (r) => (calls.push(`add ${r.netns}`), ADDED),
    del: async () => ({}),
    check: async (r) => (calls.push(`check ${r.netns}`), { ok: true as const }),
    gc: async () => ({ released: [] }),
    status: async () => ({ ready: true, idleIps: 1 }),
    owner: async () => ({ owner: "vpccni" as const, reason: "policy mode is default" }),
  };

  beforeAll(async () => {
    bed = await createTestBed();
    pod = await bed.addPod();
    dir = makeTempDir("socket-rules");
    mkdirSync(join(dir, "netns"));
    servers = startServers({
      socket: join(dir, "run", "cni.sock"),
      listen: "127.0.0.1:0",
      cni: api,
      metrics: new AgentMetrics(),
      ready: () => true,
      view: () => ({}) as never,
      // the runtime's folders and a second one, as --netns-dir gives them
      netns: agentNetnsRule(["/var/run/netns", join(dir, "netns")], undefined),
      idleTimeoutS: 1,
    });
  });
  afterAll(async () => {
    await servers?.stop();
    if (mounted) spawnSync("umount", [mounted]);
    await bed?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (op: string, body: Record<string, unknown>) => {
    const r = await fetch(`http://agent/v1/cni/${op}`, {
      method: "POST",
      body: JSON.stringify({ network: "vpc", containerId: "c1", ifname: "eth0", ...body }),
      unix: join(dir, "run", "cni.sock"),
    } as RequestInit);
    const json = (await r.json()) as { error?: { code: number; message: string } };
    return { status: r.status, code: json.error?.code ?? 0, message: json.error?.message ?? "" };
  };

  test("a pod's netns under the runtime's folder is served; /proc/<pid>/ns/net of a pod's process too", async () => {
    expect(await call("add", { netns: pod.path })).toEqual({ status: 200, code: 0, message: "" });
    const sleeper = Bun.spawn(["ip", "netns", "exec", pod.ns, "sleep", "30"]);
    try {
      await Bun.sleep(200);
      const child = spawnSync("pgrep", ["-P", String(sleeper.pid)], { encoding: "utf8" }).stdout.trim();
      const pid = child || String(sleeper.pid);
      expect((await call("check", { netns: `/proc/${pid}/ns/net` })).code).toBe(0);
    } finally {
      sleeper.kill();
    }
    expect(calls).toHaveLength(2);
  });

  test("the agent's own namespace, init's, a path outside the folders and a plain file are refused with code 4", async () => {
    const hostBind = join(dir, "netns", "host");
    writeFileSync(hostBind, "");
    expect(spawnSync("mount", ["--bind", `/proc/${process.pid}/ns/net`, hostBind]).status).toBe(0);
    mounted = hostBind;
    const plain = join(dir, "netns", "plain");
    writeFileSync(plain, "");
    const refused: [string, string][] = [
      ["/proc/self/ns/net", "outside the runtime's netns folders"],
      ["/proc/1/ns/net", "init's namespace"],
      [`/proc/${process.pid}/ns/net`, "the agent's namespace"],
      [hostBind, "the agent's own network namespace"],
      ["/etc/hostname", "outside the runtime's netns folders"],
      ["/var/run/netns/../../../proc/self/ns/net", "outside the runtime's netns folders"],
      [plain, "not a namespace file"],
    ];
    for (const [netns, why] of refused) {
      for (const op of ["add", "check"]) {
        const r = await call(op, { netns });
        expect({ netns, op, status: r.status, code: r.code }).toEqual({ netns, op, status: 400, code: 4 });
        expect(r.message).toContain(why);
      }
    }
    expect(calls).toHaveLength(2);
  });

  test("interface names follow the plugin's rule, pod names DNS-1123, each refused with code 4", async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ ifname: "eth0123456789abc" }, 'CNI_IFNAME "eth0123456789abc" is invalid'],
      [{ ifname: "eth:0" }, 'CNI_IFNAME "eth:0" is invalid'],
      [{ podName: "Web_1" }, 'K8S_POD_NAME "Web_1" is invalid'],
      [{ podName: "a".repeat(254) }, "K8S_POD_NAME"],
      [{ podNamespace: "kube.system" }, 'K8S_POD_NAMESPACE "kube.system" is invalid'],
    ];
    for (const [fields, message] of bad) {
      const r = await call("add", { netns: pod.path, ...fields });
      expect({ fields, status: r.status, code: r.code }).toEqual({
        fields,
        status: 400,
        code: CniCode.InvalidEnvironment,
      });
      expect(r.message).toContain(message);
    }
    const gc = await call("gc", { validAttachments: [{ containerId: "c2", ifname: "x y" }] });
    expect(gc.code).not.toBe(0);
    const ok = await call("add", { netns: pod.path, podName: "web-0.v2", podNamespace: "shop" });
    expect(ok.code).toBe(0);
  });

  test("the TCP listener refuses a body over 1 KiB and closes an idle connection", { timeout: 20_000 }, async () => {
    const url = `http://127.0.0.1:${servers.port}/healthz`;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { method: "POST", body: "x".repeat(64 * 1024) })).status).toBe(413);
    // A keep-alive connection left idle after a request: closed after idleTimeoutS (Bun counts
    // in steps of 4 s; its default of 10 s closes it after 12 s).
    const { promise: closed, resolve } = Promise.withResolvers<number>();
    const t0 = performance.now();
    const conn = await Bun.connect({
      hostname: "127.0.0.1",
      port: servers.port as number,
      socket: { data() {}, close: () => resolve(performance.now() - t0) },
    });
    conn.write("GET /healthz HTTP/1.1\r\nHost: agent\r\n\r\n");
    const ms = await Promise.race([closed, Bun.sleep(9_000).then(() => Number.POSITIVE_INFINITY)]);
    conn.end();
    expect(ms).toBeLessThan(9_000);
  });
});
