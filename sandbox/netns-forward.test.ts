// The forward from a test-bed namespace's loopback to the host's: bulk data both ways, FINs,
// concurrent connections, a refusing target, and nothing left after stop().
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { dirname } from "node:path";
import { runOk } from "./exec.ts";
import { forwardIntoNetns } from "./netns-forward.ts";
import { freePort } from "./ports.ts";
import { createTestBed, type TestBed } from "./test-bed.ts";

// Inside a namespace: CONNS connections at once to 127.0.0.1:PORT, each sends SIZE bytes of its
// own pattern, then its FIN, and reads until the peer's FIN. Prints one JSON line.
const CLIENT = `
const net = require("node:net");
const { createHash } = require("node:crypto");
const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT), size = Number(process.env.SIZE), conns = Number(process.env.CONNS);
const one = (i) => new Promise((resolve) => {
  const sent = Buffer.alloc(size, String.fromCharCode(97 + (i % 26)));
  const got = [];
  const s = net.connect({ host, port, allowHalfOpen: true });
  s.on("connect", () => s.end(sent));
  s.on("data", (d) => got.push(d));
  s.on("error", (e) => resolve({ error: e.code ?? e.message }));
  s.on("close", () => {
    const b = Buffer.concat(got);
    const h = (x) => createHash("sha256").update(x).digest("hex");
    resolve({ bytes: b.length, same: b.length === sent.length && h(b) === h(sent) });
  });
});
console.log(JSON.stringify(await Promise.all(Array.from({ length: conns }, (_, i) => one(i)))));
`;

describe("forwardIntoNetns", () => {
  let bed: TestBed;
  let ns: string;
  let other: string;
  let echo: Server;
  let echoPort: number;
  const seenFrom: string[] = [];
  let hostLinks: string;

  const links = async () =>
    (await runOk(["ip", "-o", "link", "show"]))
      .split("\n")
      .map((l) => l.split(":")[1]?.trim())
      .sort()
      .join(",");
  const client = async (where: string, port: number, size: number, conns = 1, host = "127.0.0.1") =>
    JSON.parse(
      await bed.execOk(where, [
        "env",
        `HOST=${host}`,
        `PORT=${port}`,
        `SIZE=${size}`,
        `CONNS=${conns}`,
        process.execPath,
        "-e",
        CLIENT,
      ]),
    ) as { bytes?: number; same?: boolean; error?: string }[];

  beforeAll(async () => {
    hostLinks = await links();
    bed = await createTestBed();
    ns = await bed.addNamespace("fw");
    other = await bed.addNamespace("fw2");
    // an echo server on the host's loopback: sends back what it got, then its FIN after the client's
    echo = createServer({ allowHalfOpen: true }, (s) => {
      seenFrom.push(s.remoteAddress ?? "");
      s.pipe(s);
    });
    echoPort = await freePort();
    await new Promise<void>((resolve) => echo.listen(echoPort, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    echo?.close();
    await bed?.destroy();
  });

  test("4 MiB each way over 8 connections at once reach the host's server and come back whole", async () => {
    const fwd = await forwardIntoNetns({ bed, ns, port: echoPort });
    try {
      const results = await client(ns, echoPort, 4 << 20, 8);
      expect(results).toEqual(Array.from({ length: 8 }, () => ({ bytes: 4 << 20, same: true })));
      expect(fwd.connections).toBe(8);
      // the host's server sees loopback connections, made by the forward
      expect(new Set(seenFrom)).toEqual(new Set(["127.0.0.1"]));
    } finally {
      await fwd.stop();
    }
    // no device came or went in the host namespace
    expect(await links()).toBe(hostLinks);
  }, 30_000);

  test("the port is on that namespace's loopback only, and may differ from the target's", async () => {
    const inner = await freePort();
    const fwd = await forwardIntoNetns({ bed, ns, port: inner, target: { port: echoPort } });
    try {
      expect(await client(ns, inner, 10)).toEqual([{ bytes: 10, same: true }]);
      expect(await client(other, inner, 10)).toEqual([{ error: "ECONNREFUSED" }]);
    } finally {
      await fwd.stop();
    }
  });

  test("it can listen on another address of the namespace: a service IP on its lo", async () => {
    const inner = await freePort();
    await bed.ip(ns, "addr", "add", "10.96.0.1/32", "dev", "lo");
    const fwd = await forwardIntoNetns({ bed, ns, port: inner, listenHost: "10.96.0.1", target: { port: echoPort } });
    try {
      expect(fwd.listenHost).toBe("10.96.0.1");
      expect(await client(ns, inner, 10, 1, "10.96.0.1")).toEqual([{ bytes: 10, same: true }]);
      expect(await client(ns, inner, 10)).toEqual([{ error: "ECONNREFUSED" }]);
    } finally {
      await fwd.stop();
      await bed.ip(ns, "addr", "del", "10.96.0.1/32", "dev", "lo");
    }
    expect(await forwardIntoNetns({ bed, ns, port: inner, listenHost: "node1" }).catch((e: Error) => e.message)).toBe(
      "forward listenHost 'node1' is not an IPv4 address of the namespace",
    );
  });

  test("a target that refuses closes the namespace's connection at once, without data", async () => {
    const closed = await freePort();
    const fwd = await forwardIntoNetns({ bed, ns, port: closed });
    try {
      const [r] = await client(ns, closed, 10);
      // the forward accepted, then closed when the host side was refused
      expect(r?.bytes ?? 0).toBe(0);
      expect(r?.same).not.toBe(true);
    } finally {
      await fwd.stop();
    }
  });

  test("stop() closes the port in the namespace and removes the listener and the socket folder", async () => {
    const fwd = await forwardIntoNetns({ bed, ns, port: echoPort });
    const pids = async () => (await runOk(["ip", "netns", "pids", ns])).split("\n").filter(Boolean);
    expect(await pids()).toHaveLength(1);
    expect(existsSync(fwd.socket)).toBe(true);
    await fwd.stop();
    expect(await pids()).toEqual([]);
    expect(existsSync(dirname(fwd.socket))).toBe(false);
    expect(await client(ns, echoPort, 10)).toEqual([{ error: "ECONNREFUSED" }]);
  });

  test("only loopback targets and real port numbers", async () => {
    const fail = (opts: Partial<Parameters<typeof forwardIntoNetns>[0]>) =>
      forwardIntoNetns({ bed, ns, port: 1234, ...opts }).then(
        () => "started",
        (e: Error) => e.message,
      );
    expect(await fail({ target: { host: "10.0.0.1" } })).toBe(
      "forward target host '10.0.0.1' is not a loopback address; allowed: 127.0.0.0/8, localhost or ::1 (the sandbox sends traffic only to loopback and its own namespaces)",
    );
    expect(await fail({ port: 70000 })).toBe("forward port is 70000; allowed: an integer from 1 to 65535");
    expect(await fail({ ns: "not-a-bed-namespace" })).toContain("does not belong to test bed");
  });
});
