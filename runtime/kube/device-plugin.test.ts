// The device plugin's protocol with kubelet: registration on kubelet.sock, ListAndWatch updates,
// lowest-first preferred allocations, re-registration when kubelet restarts (new kubelet.sock,
// our socket deleted). The registration side here is a small stand-in served by this test; the
// same plugin registers with a real kubelet in test/kubelet/real-node.test.ts.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DevicePlugin, KUBELET_SOCKET, unaryCall } from "./device-plugin.ts";
import { ProtoWriter, frame, messages, readFields, strings, unframe } from "./grpc-wire.ts";

const RESOURCE = "tke.cloud.tencent.com/eni-ip";
const quiet = { info() {}, warn() {} };

/** kubelet's Registration service: records each RegisterRequest's endpoint and resource. */
async function fakeKubelet(dir: string, answer = "0") {
  const registered: { endpoint: string; resource: string }[] = [];
  const server = http2.createServer();
  server.on("stream", (s, headers) => {
    const stream = s as http2.ServerHttp2Stream;
    const chunks: Buffer[] = [];
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => {
      expect(headers[":path"]).toBe("/v1beta1.Registration/Register");
      const f = readFields(unframe(Buffer.concat(chunks))[0]!);
      registered.push({ endpoint: strings(f, 2)[0]!, resource: strings(f, 3)[0]! });
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": answer, "grpc-message": "no%20thanks" }));
      stream.end(frame(new Uint8Array()));
    });
  });
  await new Promise<void>((r) => server.listen(join(dir, KUBELET_SOCKET), r));
  return { registered, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A ListAndWatch client, as kubelet opens one: each message is the device list of then. */
function watch(socket: string) {
  const client = http2.connect("http://localhost", { createConnection: () => net.connect(socket) });
  const req = client.request({
    ":method": "POST",
    ":path": "/v1beta1.DevicePlugin/ListAndWatch",
    "content-type": "application/grpc",
  });
  const lists: string[][] = [];
  let buf = Buffer.alloc(0);
  req.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
      const [m] = unframe(buf.subarray(0, 5 + buf.readUInt32BE(1)));
      buf = buf.subarray(5 + buf.readUInt32BE(1));
      lists.push(messages(readFields(m!), 1).map((d) => `${strings(d, 1)[0]}:${strings(d, 2)[0]}`));
    }
  });
  req.end(frame(new Uint8Array()));
  return { lists, close: () => client.close() };
}

async function until(what: string, check: () => boolean) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await Bun.sleep(10);
  }
  throw new Error(`not reached: ${what}`);
}

describe("DevicePlugin", () => {
  let dir: string;
  let plugin: DevicePlugin | undefined;
  afterEach(async () => {
    await plugin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("registers, publishes capacity devices with the first `allocatable` healthy, and follows updates", async () => {
    dir = mkdtempSync(join(tmpdir(), "vpccni-dp-"));
    const kubelet = await fakeKubelet(dir);
    plugin = new DevicePlugin({ dir, resourceName: RESOURCE, log: quiet, pollMs: 50 });
    plugin.update({ capacity: 3, allocatable: 1 });
    await plugin.start();
    expect(plugin.registered).toBe(true);
    expect(kubelet.registered).toEqual([{ endpoint: "vpccni-eni-ip.sock", resource: RESOURCE }]);
    expect(statSync(plugin.socket).mode & 0o777).toBe(0o600);
    const w = watch(plugin.socket);
    await until("the first list", () => w.lists.length === 1);
    expect(w.lists[0]).toEqual(["eni-ip-0:Healthy", "eni-ip-1:Unhealthy", "eni-ip-2:Unhealthy"]);
    plugin.update({ capacity: 3, allocatable: 1 }); // unchanged: nothing sent
    plugin.update({ capacity: 4, allocatable: 3 });
    await until("the update", () => w.lists.length === 2);
    expect(w.lists[1]).toEqual(["eni-ip-0:Healthy", "eni-ip-1:Healthy", "eni-ip-2:Healthy", "eni-ip-3:Unhealthy"]);
    // kubelet asks which devices to give a container: the lowest-numbered after the required ones
    const pref = new ProtoWriter()
      .message(1, new ProtoWriter().string(1, "eni-ip-2").string(1, "eni-ip-0").string(1, "eni-ip-1").int(3, 2))
      .finish();
    const reply = await unaryCall(plugin.socket, "/v1beta1.DevicePlugin/GetPreferredAllocation", pref);
    expect(messages(readFields(reply), 1).map((c) => strings(c, 1))).toEqual([["eni-ip-0", "eni-ip-1"]]);
    const alloc = new ProtoWriter().message(1, new ProtoWriter().string(1, "eni-ip-0")).finish();
    expect(messages(readFields(await unaryCall(plugin.socket, "/v1beta1.DevicePlugin/Allocate", alloc)), 1)).toEqual([
      [],
    ]);
    await expect(unaryCall(plugin.socket, "/v1beta1.DevicePlugin/Nope", new Uint8Array())).rejects.toThrow(
      "grpc-status 12 unknown method /v1beta1.DevicePlugin/Nope",
    );
    w.close();
    await kubelet.close();
  });

  test("a restarted kubelet (new kubelet.sock, our socket deleted) gets a new registration", async () => {
    dir = mkdtempSync(join(tmpdir(), "vpccni-dp-"));
    const first = await fakeKubelet(dir);
    plugin = new DevicePlugin({ dir, resourceName: RESOURCE, log: quiet, pollMs: 30 });
    await plugin.start();
    expect(first.registered).toHaveLength(1);
    await first.close();
    rmSync(join(dir, KUBELET_SOCKET), { force: true });
    rmSync(plugin.socket, { force: true });
    await until("unregistered", () => !plugin!.registered);
    const second = await fakeKubelet(dir);
    await until("registered again", () => second.registered.length === 1 && plugin!.registered);
    await second.close();
  });

  test("a refused registration is retried and reported, and nothing is published meanwhile", async () => {
    dir = mkdtempSync(join(tmpdir(), "vpccni-dp-"));
    const warnings: string[] = [];
    const kubelet = await fakeKubelet(dir, "3");
    plugin = new DevicePlugin({
      dir,
      resourceName: RESOURCE,
      log: { info() {}, warn: (m, f) => warnings.push(`${m}: ${f?.error}`) },
      pollMs: 30,
    });
    await plugin.start();
    expect(plugin.registered).toBe(false);
    expect(warnings[0]).toBe(
      "could not register with kubelet as a device plugin; will retry: /v1beta1.Registration/Register: grpc-status 3 no thanks",
    );
    await until("a retry", () => kubelet.registered.length >= 2);
    await kubelet.close();
  });
});
