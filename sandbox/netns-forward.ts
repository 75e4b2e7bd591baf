// A TCP port of the host's loopback, offered on the loopback of a test-bed namespace: what a
// hostNetwork container in a node namespace needs to reach the emulator or the kube-apiserver,
// which listen on the host's 127.0.0.1. No interface, route or sysctl is touched anywhere:
// a small Bun process in the namespace listens on 127.0.0.1:<port> there and hands each
// connection to a unix socket in a temp folder (a unix socket belongs to no network
// namespace); the calling process accepts on that socket and connects to the target.
import { rmSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { makeTempDir } from "./janitor.ts";
import { type ManagedProcess, spawnManaged } from "./process.ts";
import type { TestBed } from "./test-bed.ts";

export interface NetnsForwardOptions {
  bed: TestBed;
  /** A namespace of the bed. */
  ns: string;
  /** The port on 127.0.0.1 inside `ns`. */
  port: number;
  /**
   * The address it listens on inside `ns`, default 127.0.0.1. Another one must be an address
   * of the namespace already (e.g. a service IP the caller put on its lo, as kube-proxy's IPVS
   * mode does).
   */
  listenHost?: string;
  /** Where connections go, on the host's loopback; default 127.0.0.1 and the same port. */
  target?: { host?: string; port?: number };
  /** How long the listener in the namespace may take to come up (default 10 s). */
  readyTimeoutMs?: number;
}

export interface NetnsForward {
  readonly ns: string;
  readonly port: number;
  readonly listenHost: string;
  readonly target: { host: string; port: number };
  /** The unix socket between the two halves, in a temp folder of its own. */
  readonly socket: string;
  /** Connections accepted so far (the unit test reads it). */
  readonly connections: number;
  stop(): Promise<void>;
}

// Runs in the namespace: argv ends with the unix socket and the port. allowHalfOpen and pipe()
// carry each FIN across on its own, so a request that ends with the client's FIN still gets
// its reply; pipe() also waits for the slower side (back-pressure).
const LISTENER = `
const net = require("node:net");
const [sock, host, port] = process.argv.slice(-3);
const server = net.createServer({ allowHalfOpen: true }, (c) => {
  const u = net.connect({ path: sock, allowHalfOpen: true });
  const kill = () => { c.destroy(); u.destroy(); };
  c.on("error", kill); u.on("error", kill);
  c.pipe(u); u.pipe(c);
});
server.on("error", (e) => { console.error("listen failed: " + e.message); process.exit(1); });
server.listen(Number(port), host, () => console.log("listening"));
`;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|::1)$/;

/** Starts the forward and returns once the namespace's port accepts connections. */
export async function forwardIntoNetns(opts: NetnsForwardOptions): Promise<NetnsForward> {
  const target = { host: opts.target?.host ?? "127.0.0.1", port: opts.target?.port ?? opts.port };
  if (!LOOPBACK.test(target.host))
    throw new Error(
      `forward target host '${target.host}' is not a loopback address; allowed: 127.0.0.0/8, localhost or ::1 (the sandbox sends traffic only to loopback and its own namespaces)`,
    );
  for (const [name, port] of [
    ["port", opts.port],
    ["target port", target.port],
  ] as const)
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`forward ${name} is ${port}; allowed: an integer from 1 to 65535`);
  const listenHost = opts.listenHost ?? "127.0.0.1";
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(listenHost))
    throw new Error(`forward listenHost '${listenHost}' is not an IPv4 address of the namespace`);
  opts.bed.assertOwned(opts.ns);

  const dir = makeTempDir("fwd");
  const socket = join(dir, "s.sock");
  const log = join(dir, "listener.log");
  const open = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer({ allowHalfOpen: true }, (inner) => {
    connections++;
    splice(inner, connect({ host: target.host, port: target.port, allowHalfOpen: true }), open);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => resolve());
  });

  let proc: ManagedProcess | undefined;
  const stop = async () => {
    await proc?.stop(2_000);
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const cmd = [
      "ip",
      "netns",
      "exec",
      opts.ns,
      process.execPath,
      "-e",
      LISTENER,
      socket,
      listenHost,
      String(opts.port),
    ];
    proc = spawnManaged(`fwd-${opts.ns}-${opts.port}`, cmd, { log });
    await listening(proc, opts.readyTimeoutMs ?? 10_000, `${listenHost}:${opts.port} in ${opts.ns}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ns: opts.ns,
    port: opts.port,
    listenHost,
    target,
    socket,
    get connections() {
      return connections;
    },
    stop,
  };
}

/**
 * Joins two connections both ways (each FIN carried across on its own, back-pressure kept), and
 * tracks them in `open` until they close; an error on either ends both.
 */
export function splice(a: Socket, b: Socket, open: Set<Socket>): void {
  open.add(a).add(b);
  const kill = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", kill);
  b.on("error", kill);
  for (const s of [a, b]) s.on("close", () => open.delete(s));
  a.pipe(b);
  b.pipe(a);
}

async function listening(proc: ManagedProcess, timeoutMs: number, what: string): Promise<void> {
  let exit: number | null = null;
  void proc.exited.then((code) => (exit = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await Bun.file(proc.log)
      .text()
      .catch(() => "");
    if (text.includes("listening")) return;
    if (exit !== null) throw new Error(`the forward listener on ${what} exited with ${exit}: ${text.trim()}`);
    if (Date.now() > deadline) throw new Error(`the forward listener on ${what} not up after ${timeoutMs} ms: ${text}`);
    await Bun.sleep(20);
  }
}
