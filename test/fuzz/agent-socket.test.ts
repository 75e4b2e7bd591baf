// The agent's unix socket under hostile clients (a real agent of the emulated cluster): garbage
// and wrong-verb requests, bodies that lie about their length or are huge, clients that stall
// half-way, and a CNI call from a user that is not root. Each gets a clear refusal, nothing
// reaches the pool half-formed, and the agent keeps answering the pods' real calls.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { EmulatedCluster } from "../../sandbox/emulated-cluster.ts";
import { requireCni } from "../../sandbox/prereq.ts";
import { nastyString, Rng } from "./fuzz-kit.ts";

const SEED = 4242;
const CASES = 300;

/** Sends raw bytes on the socket; resolves with what came back when the agent closes or 3 s pass. */
function raw(socket: string, bytes: string | Buffer, holdMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const s: Socket = connect({ path: socket });
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(got).toString("latin1"));
    };
    const timer = setTimeout(done, holdMs);
    s.on("connect", () => s.end(bytes));
    s.on("data", (d: Buffer) => got.push(d));
    s.on("close", done);
    s.on("error", done);
  });
}

const status = (reply: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? 0);

describe("the agent's socket under hostile clients", () => {
  let world: EmulatedCluster;
  let socket: string;

  beforeAll(async () => {
    requireCni();
    world = await EmulatedCluster.start({ nodes: 1, spec: { prebind: { min: 2, max: 3 } } });
    await world.nodes[0]!.startAgent();
    socket = world.nodes[0]!.socket;
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test(`${CASES} seeded malformed requests: a 4xx or a closed connection, never a 5xx; the pool is untouched`, async () => {
    const node = world.nodes[0]!;
    const before = await node.view();
    const r = new Rng(SEED);
    const problems: string[] = [];
    const paths = ["/v1/cni/add", "/v1/cni/del", "/v1/cni/check", "/v1/cni/gc", "/v1/cni/status", "/v1/pool", "/"];
    for (let i = 0; i < CASES && problems.length < 5; i++) {
      const method = r.pick([
        "POST",
        "GET",
        "PUT",
        "DELETE",
        "PATCH",
        "BREW",
        nastyString(r).replace(/\s/g, "") || "X",
      ]);
      const path = r.chance(0.8) ? r.pick(paths) : `/${nastyString(r).replace(/[\s]/g, "")}`;
      const body = r.pick([
        "",
        "{",
        "null",
        "[]",
        '{"network":1}',
        JSON.stringify({
          network: "vpccni",
          containerId: nastyString(r),
          ifname: nastyString(r),
          netns: nastyString(r),
        }),
        nastyString(r),
      ]);
      const length = r.chance(0.2)
        ? String(r.pick([0, body.length + 100, 10 ** 9, -1]))
        : String(Buffer.byteLength(body));
      const request = r.chance(0.1)
        ? nastyString(r)
        : `${method} ${path} HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${body}`;
      const reply = await raw(socket, request, 2000);
      const code = status(reply);
      // 505 is Bun's HTTP parser refusing a request line that is not HTTP (a bad method or
      // path token): the connection is closed before any handler runs
      const parserRefusal = code === 505 && !/^[A-Z]+ \/[\x21-\x7e]* HTTP\/1\.1\r\n/.test(request);
      if (code >= 500 && !parserRefusal) problems.push(`case ${i} ${method} ${path}: ${reply.slice(0, 300)}`);
      if (code === 200 && method !== "GET")
        problems.push(`case ${i}: accepted ${method} ${path} ${body.slice(0, 100)}: ${reply.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
    const after = await node.view();
    expect(after.pods).toEqual(before.pods);
  }, 300_000);

  test("a huge body and 50 stalled clients do not stop the agent from serving a pod", async () => {
    const node = world.nodes[0]!;
    const huge = `POST /v1/cni/add HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: ${64 << 20}\r\nConnection: close\r\n\r\n${"x".repeat(64 << 20)}`;
    const hugeReply = raw(socket, huge, 10_000);
    const stalled: Socket[] = [];
    for (let i = 0; i < 50; i++) {
      const s = connect({ path: socket });
      s.on("error", () => {});
      s.write("POST /v1/cni/add HTTP/1.1\r\nHost: agent\r\nContent-Length: 100\r\n\r\n{");
      stalled.push(s);
    }
    try {
      const pod = await node.addPod("after-the-storm");
      expect(pod.ip).toMatch(/^10\.231\./);
      const code = status(await hugeReply);
      // refused (413) or cut off; never accepted, never a crash
      expect(code === 0 || (code >= 400 && code < 500)).toBe(true);
      await node.delPod("after-the-storm");
    } finally {
      for (const s of stalled) s.destroy();
    }
  }, 120_000);

  test("a CNI call from a user that is not root is refused by the socket's permissions", async () => {
    const node = world.nodes[0]!;
    const pod = await node.newPodNamespace("nobody");
    // the binary where that user may run it, as /opt/cni/bin is on a node
    const bin = makeTempDir("cni-nobody");
    chmodSync(bin, 0o755);
    copyFileSync(`${world.cniBin}/vpccni`, join(bin, "vpccni"));
    chmodSync(join(bin, "vpccni"), 0o755);
    const conf = JSON.stringify({ cniVersion: "1.0.0", name: "vpccni", type: "vpccni", socket });
    const env = {
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "nobodyc1",
      CNI_NETNS: pod.path,
      CNI_IFNAME: "eth0",
      CNI_PATH: bin,
    };
    const r = await world.bed.exec(
      node.ns.ns,
      [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "env",
        "-i",
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        join(bin, "vpccni"),
      ],
      { input: conf },
    );
    expect(r.code).not.toBe(0);
    if (!r.stdout.startsWith("{")) throw new Error(`no CNI error on stdout (${r.code}): ${r.stdout} ${r.stderr}`);
    const err = JSON.parse(r.stdout) as { code: number; msg: string };
    expect(Number.isInteger(err.code)).toBe(true);
    expect(err.msg).toContain("permission denied: the agent's socket is root's alone (0600)");
    // nothing was wired or allocated for it
    expect((await node.view()).pods.some((p) => p.key.includes("nobodyc1"))).toBe(false);
  }, 60_000);
});
