// The reverse of netns-forward.ts: a TCP service listening inside a test-bed namespace (the
// control plane's kube-apiserver, which lives in the VPC so that it reaches pods and nodes as a
// managed control plane does) offered on a free port of the host's loopback, for the test
// process, kubectl and host-side components. A small Bun process in the namespace accepts on a
// unix socket in a temp folder (a unix socket belongs to no network namespace) and connects to
// the target there; the calling process listens on 127.0.0.1 and hands each connection over.
// No interface, route or sysctl of the host is touched.
import { rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { makeTempDir } from "./janitor.ts";
import { splice } from "./netns-forward.ts";
import { freePort } from "./ports.ts";
import { type ManagedProcess, spawnManaged } from "./process.ts";
import type { TestBed } from "./test-bed.ts";

export interface NetnsExpose {
  readonly ns: string;
  /** The port on the host's 127.0.0.1. */
  readonly port: number;
  readonly target: { host: string; port: number };
  stop(): Promise<void>;
}

// Runs in the namespace: argv ends with the unix socket, the target host and port.
const CONNECTOR = `
const net = require("node:net");
const [sock, host, port] = process.argv.slice(-3);
const server = net.createServer({ allowHalfOpen: true }, (u) => {
  const c = net.connect({ host, port: Number(port), allowHalfOpen: true });
  const kill = () => { c.destroy(); u.destroy(); };
  c.on("error", kill); u.on("error", kill);
  c.pipe(u); u.pipe(c);
});
server.on("error", (e) => { console.error("listen failed: " + e.message); process.exit(1); });
server.listen(sock, () => console.log("listening"));
`;

/** Offers `target` (host:port inside `ns`) on 127.0.0.1:<returned port> of the host. */
export async function exposeFromNetns(opts: {
  bed: TestBed;
  ns: string;
  target: { host: string; port: number };
  readyTimeoutMs?: number;
}): Promise<NetnsExpose> {
  opts.bed.assertOwned(opts.ns);
  const dir = makeTempDir("expose");
  const socket = join(dir, "s.sock");
  const log = join(dir, "connector.log");
  const cmd = [
    "ip",
    "netns",
    "exec",
    opts.ns,
    process.execPath,
    "-e",
    CONNECTOR,
    socket,
    opts.target.host,
    String(opts.target.port),
  ];
  const proc: ManagedProcess = spawnManaged(`expose-${opts.ns}-${opts.target.port}`, cmd, { log });
  const open = new Set<Socket>();
  let server: Server | undefined;
  const stop = async () => {
    for (const s of open) s.destroy();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await proc.stop(2_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
    let exit: number | null = null;
    void proc.exited.then((c) => (exit = c));
    for (;;) {
      const text = await Bun.file(log)
        .text()
        .catch(() => "");
      if (text.includes("listening")) break;
      if (exit !== null) throw new Error(`the connector in ${opts.ns} exited with ${exit}: ${text.trim()}`);
      if (Date.now() > deadline) throw new Error(`the connector in ${opts.ns} is not up: ${text}`);
      await Bun.sleep(20);
    }
    const port = await freePort();
    server = createServer({ allowHalfOpen: true }, (outer) =>
      splice(outer, connect({ path: socket, allowHalfOpen: true }), open),
    );
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(port, "127.0.0.1", () => resolve());
    });
    return { ns: opts.ns, port, target: opts.target, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
