// A service inside a test-bed namespace, offered on the host's loopback: data both ways, and
// nothing left after stop().
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { waitFor } from "./emulated-cloud.ts";
import { makeTempDir } from "./janitor.ts";
import { exposeFromNetns } from "./netns-expose.ts";
import { type ManagedProcess, spawnManaged } from "./process.ts";
import { createTestBed, type TestBed } from "./test-bed.ts";

// an echo server on the namespace's own address, which the host cannot reach directly
const ECHO = `require("node:net").createServer((s) => s.pipe(s)).listen(7443, process.argv.at(-1), () => console.log("listening"));`;

describe("exposeFromNetns", () => {
  let bed: TestBed;
  let ns: string;
  let ip: string;
  let echo: ManagedProcess;
  let dir: string;

  beforeAll(async () => {
    bed = await createTestBed({ subnet: "10.231.6.0/24" });
    const node = await bed.addNode({ name: "cp" });
    ns = node.ns;
    ip = node.ip;
    dir = makeTempDir("expose-test");
    echo = spawnManaged("echo", ["ip", "netns", "exec", ns, process.execPath, "-e", ECHO, ip], {
      log: join(dir, "echo.log"),
    });
    await waitFor("the echo server", () => readFileSync(join(dir, "echo.log"), "utf8").includes("listening"), 10_000);
  });

  afterAll(async () => {
    await echo?.stop();
    await bed?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const roundTrip = (port: number, data: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const got: Buffer[] = [];
      const s = connect({ host: "127.0.0.1", port }, () => s.write(data));
      s.on("data", (d: Buffer) => {
        got.push(d);
        if (Buffer.concat(got).length >= data.length) s.end();
      });
      s.on("close", () => resolve(Buffer.concat(got)));
      s.on("error", reject);
    });

  test("a host loopback port reaches the service in the namespace, 1 MiB both ways", async () => {
    const e = await exposeFromNetns({ bed, ns, target: { host: ip, port: 7443 } });
    try {
      const data = Buffer.alloc(1 << 20, "x");
      expect((await roundTrip(e.port, data)).equals(data)).toBe(true);
      expect(e.target).toEqual({ host: ip, port: 7443 });
    } finally {
      await e.stop();
    }
    // stopped: the port is closed
    await expect(roundTrip(e.port, Buffer.from("x"))).rejects.toThrow();
  });

  test("a namespace the bed does not own is refused", async () => {
    await expect(exposeFromNetns({ bed, ns: "not-ours", target: { host: ip, port: 1 } })).rejects.toThrow();
  });
});
