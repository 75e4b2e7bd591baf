// tke.cloud.tencent.com/eni-ip published through kubelet's device-plugin API, so that the Node
// says what the pool holds (behaviour rule 7): one device per IP the node can ever bind
// (capacity = maxBindable), the first `bound` of them Healthy (allocatable = bound IPs). A Node
// status patch cannot do that on a node with a kubelet: kubelet rewrites an extended
// resource's allocatable to its capacity on every status update (seen with a real kubelet in
// test/kubelet). Peers (Terway's aliyun/eni, GPU plugins) publish this way too.
//
// The plugin serves gRPC on <dir>/vpccni-eni-ip.sock and registers with <dir>/kubelet.sock.
// kubelet deletes every socket in <dir> when it starts, and a restarted kubelet has a new
// kubelet.sock: a poll notices either and serves and registers again. kubelet asks it for a
// preferred allocation, and gets the lowest-numbered free devices, so the devices marked
// unhealthy when the pool shrinks (the highest-numbered) are the ones least likely in use.
import { chmodSync, existsSync, rmSync, statSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { join } from "node:path";
import {
  allocateResponse,
  devicePluginOptions,
  frame,
  listAndWatchResponse,
  preferredAllocationResponse,
  readAllocateRequest,
  readPreferredAllocationRequest,
  registerRequest,
  unframe,
} from "./grpc-wire.ts";

export const DEVICE_PLUGIN_SOCKET = "vpccni-eni-ip.sock";
export const KUBELET_SOCKET = "kubelet.sock";

export interface DevicePluginLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface DevicePluginOptions {
  /** kubelet's device-plugin folder (/var/lib/kubelet/device-plugins on a node). */
  dir: string;
  resourceName: string;
  log: DevicePluginLog;
  /** How often kubelet's socket is checked (default 2 s). */
  pollMs?: number;
}

export interface EniIpFigures {
  capacity: number;
  allocatable: number;
}

const GRPC = "application/grpc";
const OK = "0";
const INVALID_ARGUMENT = "3";
const UNIMPLEMENTED = "12";

/** Device i of the pool: a stable ID per IP slot. */
export const deviceId = (i: number) => `eni-ip-${i}`;
const index = (id: string) => Number(id.slice("eni-ip-".length));

export class DevicePlugin {
  private figures: EniIpFigures = { capacity: 0, allocatable: 0 };
  private server: http2.Http2Server | undefined;
  private readonly streams = new Set<http2.ServerHttp2Stream>();
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The kubelet.sock registered with (inode and change time), "" when not registered. */
  private registeredWith = "";
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: DevicePluginOptions) {}

  get socket(): string {
    return join(this.opts.dir, DEVICE_PLUGIN_SOCKET);
  }

  /** True while kubelet has accepted the registration (publish through the plugin then). */
  get registered(): boolean {
    return this.registeredWith !== "";
  }

  /** Starts polling for kubelet; resolves after the first check. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.check(), this.opts.pollMs ?? 2_000);
    await this.check();
  }

  /** New figures: every open ListAndWatch stream gets the new device list at once. */
  update(figures: EniIpFigures): void {
    if (figures.capacity === this.figures.capacity && figures.allocatable === this.figures.allocatable) return;
    this.figures = { ...figures };
    const message = frame(listAndWatchResponse(this.devices()));
    for (const s of this.streams) if (!s.closed) s.write(message);
  }

  devices(): { id: string; healthy: boolean }[] {
    const { capacity, allocatable } = this.figures;
    return Array.from({ length: capacity }, (_, i) => ({ id: deviceId(i), healthy: i < allocatable }));
  }

  /** Serves and registers when kubelet's socket is new, or ours was removed (kubelet restarted). */
  check(): Promise<void> {
    this.checking = this.checking.then(() => this.checkOnce()).catch(() => {});
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped) return;
    const kubeletSocket = join(this.opts.dir, KUBELET_SOCKET);
    let id = "";
    try {
      const st = statSync(kubeletSocket);
      id = `${st.ino}-${st.ctimeMs}`;
    } catch {
      if (this.registered) this.opts.log.warn("kubelet's device-plugin socket is gone", { socket: kubeletSocket });
      this.registeredWith = "";
      return;
    }
    if (id === this.registeredWith && existsSync(this.socket)) return;
    try {
      await this.serve();
      await unaryCall(
        kubeletSocket,
        "/v1beta1.Registration/Register",
        registerRequest(DEVICE_PLUGIN_SOCKET, this.opts.resourceName),
      );
      this.registeredWith = id;
      this.opts.log.info("registered with kubelet as a device plugin", {
        resource: this.opts.resourceName,
        socket: this.socket,
        ...this.figures,
      });
    } catch (e) {
      this.registeredWith = "";
      this.opts.log.warn("could not register with kubelet as a device plugin; will retry", {
        socket: kubeletSocket,
        error: (e as Error).message,
      });
    }
  }

  private async serve(): Promise<void> {
    await this.closeServer();
    rmSync(this.socket, { force: true });
    const server = http2.createServer();
    server.on("stream", (stream, headers) =>
      this.handle(stream as http2.ServerHttp2Stream, String(headers[":path"] ?? "")),
    );
    server.on("sessionError", () => {});
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socket, () => resolve());
    });
    // kubelet runs as root; nobody else has anything to say to this socket
    chmodSync(this.socket, 0o600);
    this.server = server;
  }

  private handle(stream: http2.ServerHttp2Stream, path: string): void {
    stream.on("error", () => {});
    const chunks: Buffer[] = [];
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => {
      let requests: Uint8Array[];
      try {
        requests = unframe(Buffer.concat(chunks));
      } catch (e) {
        return fail(stream, INVALID_ARGUMENT, (e as Error).message);
      }
      const request = requests[0] ?? new Uint8Array();
      try {
        switch (path) {
          case "/v1beta1.DevicePlugin/GetDevicePluginOptions":
            return reply(stream, devicePluginOptions().finish());
          case "/v1beta1.DevicePlugin/ListAndWatch":
            stream.respond({ ":status": 200, "content-type": GRPC });
            stream.write(frame(listAndWatchResponse(this.devices())));
            this.streams.add(stream);
            stream.on("close", () => this.streams.delete(stream));
            return;
          case "/v1beta1.DevicePlugin/GetPreferredAllocation":
            return reply(stream, preferredAllocationResponse(readPreferredAllocationRequest(request).map(lowestFirst)));
          case "/v1beta1.DevicePlugin/Allocate":
            return reply(stream, allocateResponse(readAllocateRequest(request).length));
          case "/v1beta1.DevicePlugin/PreStartContainer":
            return reply(stream, new Uint8Array());
          default:
            return fail(stream, UNIMPLEMENTED, `unknown method ${path}`);
        }
      } catch (e) {
        return fail(stream, INVALID_ARGUMENT, (e as Error).message);
      }
    });
  }

  private async closeServer(): Promise<void> {
    for (const s of this.streams) s.close();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.checking;
    await this.closeServer();
    rmSync(this.socket, { force: true });
    this.registeredWith = "";
  }
}

/** kubelet's choice for one container: what it must include, then the lowest-numbered. */
function lowestFirst(c: { available: string[]; mustInclude: string[]; size: number }): string[] {
  const chosen = [...c.mustInclude];
  const rest = c.available.filter((id) => !chosen.includes(id)).sort((a, b) => index(a) - index(b));
  for (const id of rest) {
    if (chosen.length >= c.size) break;
    chosen.push(id);
  }
  return chosen;
}

function reply(stream: http2.ServerHttp2Stream, message: Uint8Array): void {
  stream.respond({ ":status": 200, "content-type": GRPC }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": OK }));
  stream.end(frame(message));
}

function fail(stream: http2.ServerHttp2Stream, code: string, message: string): void {
  stream.respond(
    { ":status": 200, "content-type": GRPC, "grpc-status": code, "grpc-message": encodeURIComponent(message) },
    { endStream: true },
  );
}

/** One unary gRPC call over a unix socket; resolves with the reply message. */
export function unaryCall(socket: string, path: string, message: Uint8Array, timeoutMs = 10_000): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const client = http2.connect("http://localhost", { createConnection: () => net.connect(socket) });
    const done = (err: Error | null, value?: Uint8Array) => {
      clearTimeout(timer);
      client.close();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new Error(`${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
    client.on("error", (e) => done(e));
    const req = client.request({ ":method": "POST", ":path": path, "content-type": GRPC, te: "trailers" });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let grpcMessage = "";
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) grpcMessage = decodeURIComponent(String(h["grpc-message"]));
    };
    req.on("response", take);
    req.on("trailers", take);
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("error", (e) => done(e));
    req.on("end", () => {
      if (status !== OK) return done(new Error(`${path}: grpc-status ${status ?? "missing"} ${grpcMessage}`.trim()));
      try {
        done(null, unframe(Buffer.concat(chunks))[0] ?? new Uint8Array());
      } catch (e) {
        done(e as Error);
      }
    });
    req.end(frame(message));
  });
}
