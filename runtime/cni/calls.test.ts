// The exec shim's two routes, driven as the shim drives them: a call, then each host operation
// the agent asks for done here (localHost in a temporary folder) and resumed, until `done`.
// test/dataplane/cni-shim.test.ts drives the real Go shim; test/e2e/mixed-mode.test.ts runs both
// with the real agent and the reference plugins.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CallReply, CALL_PATH, cniCalls, type HostOp, type HostResult, RESUME_PATH } from "./calls.ts";
import { addAnswer } from "./answer-kit.ts";
import { localHost } from "./host.ts";
import { type CniAgentApi, CniCode } from "./protocol.ts";

const dir = mkdtempSync(join(tmpdir(), "vpccni-calls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ANSWER = addAnswer();
const asked: string[] = [];
const api: CniAgentApi = {
  add: async (r) => (asked.push(`add ${r.containerId}`), ANSWER),
  del: async (r) => (asked.push(`del ${r.containerId}`), {}),
  check: async () => ({ ok: true as const }),
  gc: async () => ({ released: [] }),
  status: async () => ({ ready: true, idleIps: 3 }),
  owner: async (r) => ({
    owner: r.podName === "vpc-pod" ? ("vpccni" as const) : ("delegate" as const),
    reason: "test",
  }),
};
const serve = cniCalls(api, { exists: (p) => p === "/var/run/netns/p", fileOpWaitMs: 200 });

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await serve(new Request(`http://agent${path}`, { method: "POST", body: JSON.stringify(body) }));
  if (!r) throw new Error(`no route ${path}`);
  return { status: r.status, json: await r.json() };
}

/** Drives one call to its end as the shim does; every host operation is recorded and done locally. */
async function drive(env: Record<string, string>, stdin: string, ops: HostOp[] = []) {
  let r = await post(CALL_PATH, { env, stdin });
  while (r.status === 200 && !("done" in r.json)) {
    const { session, op } = r.json as { session: string; op: HostOp };
    ops.push(op);
    r = await post(RESUME_PATH, { session, result: await doLocally(op) });
  }
  expect(r.status).toBe(200);
  return (r.json as Extract<CallReply, { done: unknown }>).done;
}

async function doLocally(op: HostOp): Promise<HostResult> {
  try {
    switch (op.op) {
      case "read": {
        const text = await localHost.read(op.path);
        return text === null ? {} : { text };
      }
      case "write":
        return await localHost.write(op.path, op.text).then(() => ({ ok: true }));
      case "remove":
        return await localHost.remove(op.path).then(() => ({ ok: true }));
      case "list":
        return { names: await localHost.list(op.path) };
      case "executable":
        return { ok: await localHost.executable(op.path) };
      case "exec":
        return await localHost.exec(op.path, op.env, op.stdin, op.timeoutMs);
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const env = (over: Record<string, string> = {}) => ({
  CNI_COMMAND: "ADD",
  CNI_CONTAINERID: "c1",
  CNI_NETNS: "/var/run/netns/p",
  CNI_IFNAME: "eth0",
  CNI_PATH: join(dir, "bin"),
  CNI_ARGS: "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=vpc-pod",
  ...over,
});
const conf = (extra: object = {}) => JSON.stringify({ cniVersion: "1.0.0", name: "vpc", type: "vpccni", ...extra });

describe("the exec shim's calls", () => {
  test("an ADD in default mode is answered at once: the result, a newline, exit 0", async () => {
    const done = await drive(env(), conf());
    expect(done.exitCode).toBe(0);
    expect(done.stdout.endsWith("}\n")).toBe(true);
    expect(JSON.parse(done.stdout)).toMatchObject({ cniVersion: "1.0.0", ips: [{ address: "10.0.1.5/32" }] });
  });
  test("a bad call is a CNI error from the agent's own checks, never a protocol failure", async () => {
    const done = await drive(env({ CNI_NETNS: "/var/run/netns/gone" }), conf());
    expect(done.exitCode).toBe(1);
    expect(JSON.parse(done.stdout)).toMatchObject({ cniVersion: "1.0.0", code: CniCode.UnknownContainer });
    const notJson = await drive(env(), "{");
    expect(JSON.parse(notJson.stdout)).toMatchObject({ code: CniCode.DecodeFailure });
  });
  test("a DEL asks the shim for the attachment's record where the runtime runs plugins, then the agent", async () => {
    asked.length = 0;
    const ops: HostOp[] = [];
    const done = await drive(env({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "gone1" }), conf(), ops);
    expect(done).toEqual({ stdout: "", exitCode: 0 });
    expect(ops).toEqual([{ op: "read", path: "/var/lib/cni/vpccni/delegated/vpc/gone1@eth0" }]);
    expect(asked).toEqual(["del gone1"]);
  });
  test("mixed mode: a pod that did not opt in runs the kept configuration through the shim, output verbatim", async () => {
    const bin = join(dir, "bin");
    const cache = join(dir, "cache");
    const kept = join(dir, "kept.conflist");
    await localHost.write(
      join(bin, "echo-plugin"),
      '#!/bin/sh\nprintf \'{"cniVersion":"1.0.0","from":"%s"}\' "$CNI_COMMAND"\n',
    );
    chmodSync(join(bin, "echo-plugin"), 0o755);
    writeFileSync(kept, JSON.stringify({ cniVersion: "1.0.0", name: "old", plugins: [{ type: "echo-plugin" }] }));
    const delegate = { conflist: kept, cacheDir: cache };
    const ops: HostOp[] = [];
    const add = await drive(env({ CNI_ARGS: "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=other" }), conf({ delegate }), ops);
    expect(add).toEqual({ stdout: '{"cniVersion":"1.0.0","from":"ADD"}', exitCode: 0 });
    expect(ops.map((o) => o.op)).toEqual(["read", "read", "executable", "write", "executable", "exec", "write"]);
    expect(readdirSync(join(cache, "delegated", "vpc"))).toEqual(["c1@eth0"]);
    const del = await drive(env({ CNI_COMMAND: "DEL" }), conf({ delegate }));
    expect(del).toEqual({ stdout: '{"cniVersion":"1.0.0","from":"DEL"}', exitCode: 0 });
    expect(existsSync(join(cache, "delegated", "vpc", "c1@eth0"))).toBe(false);
  });
  test("a shim that does not come back ends the call with 11, and a late resume finds no call (404, 11)", async () => {
    const delegate = { conflist: join(dir, "kept.conflist"), cacheDir: join(dir, "cache") };
    const first = await post(CALL_PATH, {
      env: env({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "c9" }),
      stdin: conf({ delegate }),
    });
    expect(first.json.op).toMatchObject({ op: "read" });
    await Bun.sleep(400);
    const late = await post(RESUME_PATH, { session: first.json.session, result: {} });
    expect(late.status).toBe(404);
    expect(late.json.error.code).toBe(CniCode.TryAgainLater);
  });
  test("only CNI_* variables are taken, and a body that is not a call is refused (400)", async () => {
    const leak = await post(CALL_PATH, { env: { ...env(), AWS_SECRET: "x" }, stdin: conf() });
    expect(leak.status).toBe(400);
    expect(leak.json.error.code).toBe(CniCode.InvalidConfig);
    const r = await serve(new Request(`http://agent${CALL_PATH}`, { method: "POST", body: "{" }));
    expect(r?.status).toBe(400);
    expect(serve(new Request("http://agent/v1/cni/add", { method: "POST", body: "{}" }))).toBeUndefined();
  });
});
