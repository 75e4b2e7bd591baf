// The real Go exec shim (runtime/cni/shim) against an agent scripted here: it forwards the call
// as it came, does each host operation the agent asks for, confined to the mixed-mode cache
// folder, the kept configuration and the plugins of CNI_PATH, and prints the final answer
// exactly. No namespaces: nothing here touches the network.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostOp, HostResult } from "../../runtime/cni/calls.ts";
import { run } from "../../sandbox/exec.ts";
import { buildCni } from "./cni-kit.ts";

let bin: string;
let dir: string;
let server: ReturnType<typeof Bun.serve>;
/** What the scripted agent asks next, and the shim's answers it got. */
let script: HostOp[] = [];
let final = { stdout: "", exitCode: 0 };
let results: HostResult[] = [];
let forwarded: { env: Record<string, string>; stdin: string } | undefined;

beforeAll(async () => {
  bin = join(await buildCni(), "vpccni");
  dir = mkdtempSync(join(tmpdir(), "vpccni-shim-"));
  mkdirSync(join(dir, "bin"));
  mkdirSync(join(dir, "cache"));
  const next = () => Response.json(script.length > 0 ? { session: "s1", op: script.shift() } : { done: final });
  server = Bun.serve({
    unix: join(dir, "agent.sock"),
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const body = (await req.json()) as Record<string, unknown>;
      if (path === "/v1/cni/call") {
        forwarded = body as typeof forwarded;
        return next();
      }
      if (path === "/v1/cni/resume" && body.session === "s1") {
        results.push(body.result as HostResult);
        return next();
      }
      return Response.json({ error: { code: 11, message: "no such call" } }, { status: 404 });
    },
  });
}, 120_000);

afterAll(() => {
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const conf = (extra: object = {}) =>
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "vpc",
    type: "vpccni",
    socket: join(dir, "agent.sock"),
    delegate: { conflist: join(dir, "kept.conflist"), cacheDir: join(dir, "cache") },
    ...extra,
  });

async function shim(ops: HostOp[], stdin = conf(), env: Record<string, string> = {}) {
  script = [...ops];
  results = [];
  return run(["env", "-i", "PATH=/usr/bin:/bin", "HOME=/nonexistent", ...envList(env), bin], { input: stdin });
}
const envList = (over: Record<string, string>) =>
  Object.entries({
    CNI_COMMAND: "DEL",
    CNI_CONTAINERID: "c1",
    CNI_IFNAME: "eth0",
    CNI_PATH: join(dir, "bin"),
    ...over,
  }).map(([k, v]) => `${k}=${v}`);

describe("the exec shim", () => {
  test("forwards the CNI_* variables (and nothing else of its environment) and stdin as they came, prints the answer exactly, exits with its status", async () => {
    final = { stdout: '{"cniVersion":"1.0.0","code":7,"msg":"no"}', exitCode: 1 };
    const stdin = conf({ pad: "é ünïcode" });
    const r = await shim([], stdin, { CNI_ARGS: "K8S_POD_NAME=p", CNI_Extra1: "x", SECRET_KEY: "not sent" });
    expect(r).toEqual({ code: 1, stdout: final.stdout, stderr: "" });
    expect(forwarded?.stdin).toBe(stdin);
    expect(forwarded?.env).toEqual({
      CNI_COMMAND: "DEL",
      CNI_CONTAINERID: "c1",
      CNI_IFNAME: "eth0",
      CNI_PATH: join(dir, "bin"),
      CNI_ARGS: "K8S_POD_NAME=p",
      CNI_Extra1: "x",
    });
  });
  test("file operations inside the cache folder; the kept configuration readable; everything else refused", async () => {
    final = { stdout: "", exitCode: 0 };
    writeFileSync(join(dir, "kept.conflist"), "kept");
    const rec = join(dir, "cache", "delegated", "vpc", "c1@eth0");
    const r = await shim([
      { op: "write", path: rec, text: "record" },
      { op: "read", path: rec },
      { op: "list", path: join(dir, "cache", "delegated", "vpc") },
      { op: "read", path: join(dir, "kept.conflist") },
      { op: "read", path: join(dir, "cache", "missing") },
      { op: "remove", path: rec },
      { op: "read", path: "/etc/hostname" },
      { op: "write", path: join(dir, "cache", "..", "escape"), text: "x" },
      { op: "list", path: dir },
      { op: "remove", path: join(dir, "kept.conflist") },
    ]);
    expect(r.code).toBe(0);
    expect(results.slice(0, 6)).toEqual([
      { ok: true, exitCode: null },
      { text: "record", exitCode: null },
      { names: ["c1@eth0"], exitCode: null },
      { text: "kept", exitCode: null },
      { exitCode: null },
      { ok: true, exitCode: null },
    ]);
    for (const refused of results.slice(6)) expect(refused.error).toContain("the plugin refuses");
    expect(existsSync(rec)).toBe(false);
    expect(existsSync(join(dir, "escape"))).toBe(false);
    expect(existsSync(join(dir, "kept.conflist"))).toBe(true);
    expect(statSync(join(dir, "cache", "delegated")).mode & 0o777).toBe(0o700);
  });
  test("runs plugins of CNI_PATH only: the runtime's environment under the agent's variables, stdin in, stdout and status out", async () => {
    final = { stdout: "", exitCode: 0 };
    const plugin = join(dir, "bin", "probe");
    writeFileSync(
      plugin,
      '#!/bin/sh\ncat >/dev/null\nprintf \'%s|%s|%s\' "$CNI_COMMAND" "$PATH" "$CNI_IFNAME"\nexit 3\n',
    );
    chmodSync(plugin, 0o755);
    const slow = join(dir, "bin", "slow");
    writeFileSync(slow, "#!/bin/sh\nexec sleep 5\n");
    chmodSync(slow, 0o755);
    const r = await shim([
      { op: "executable", path: plugin },
      { op: "executable", path: join(dir, "bin", "none") },
      { op: "exec", path: plugin, env: { CNI_COMMAND: "ADD" }, stdin: "{}", timeoutMs: 5000 },
      { op: "exec", path: slow, env: {}, stdin: "", timeoutMs: 200 },
      { op: "exec", path: "/bin/sh", env: {}, stdin: "", timeoutMs: 1000 },
      { op: "executable", path: "/bin/sh" },
    ]);
    expect(r.code).toBe(0);
    expect(results.slice(0, 4)).toEqual([
      { ok: true, exitCode: null },
      { ok: false, exitCode: null },
      { stdout: "ADD|/usr/bin:/bin|eth0", exitCode: 3 },
      { stdout: "", exitCode: null },
    ]);
    for (const refused of results.slice(4)) expect(refused.error).toContain("the plugin refuses");
  });
  test("no agent: 11 naming the socket (STATUS: 50); an answer that is not HTTP JSON: 102", async () => {
    const gone = await shim([], conf({ socket: join(dir, "none.sock") }));
    expect(JSON.parse(gone.stdout)).toMatchObject({ cniVersion: "1.0.0", code: 11 });
    expect(JSON.parse(gone.stdout).msg).toContain("no such socket: is the vpccni agent running on this node?");
    const status = await shim([], conf({ cniVersion: "1.1.0", socket: join(dir, "none.sock") }), {
      CNI_COMMAND: "STATUS",
    });
    expect(JSON.parse(status.stdout)).toMatchObject({ cniVersion: "1.1.0", code: 50 });
    const junk = Bun.listen({
      unix: join(dir, "junk.sock"),
      socket: {
        data(s) {
          s.end("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
        },
      },
    });
    try {
      const r = await shim([], conf({ socket: join(dir, "junk.sock") }));
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 102 });
    } finally {
      junk.stop(true);
    }
  });
  test("VERSION is the shim's own, with no stdin read and no agent asked", async () => {
    forwarded = undefined;
    const r = await run(["env", "-i", "CNI_COMMAND=VERSION", bin]);
    expect(JSON.parse(r.stdout)).toEqual({ cniVersion: "1.1.0", supportedVersions: ["0.4.0", "1.0.0", "1.1.0"] });
    expect(forwarded).toBeUndefined();
  });
  test("the shim's defaults are the agent's (socket, timeouts, cache folder)", async () => {
    const { pluginTimeoutMs } = await import("../../schema/cni.ts");
    const { DEFAULT_SOCKET } = await import("../../runtime/cni/protocol.ts");
    const { DEFAULT_DELEGATE_CACHE_DIR } = await import("../../runtime/cni/delegate.ts");
    const go = readFileSync(join(import.meta.dir, "../../runtime/cni/shim/main.go"), "utf8");
    expect(go).toContain(`defaultSocket    = "${DEFAULT_SOCKET}"`);
    expect(go).toContain(`defaultTimeoutMs = ${pluginTimeoutMs()}`);
    expect(go).toContain(`defaultCacheDir  = "${DEFAULT_DELEGATE_CACHE_DIR}"`);
    expect(go).toContain("statusTimeoutMs  = 2000");
  });
});
