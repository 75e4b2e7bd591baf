// The device-plugin messages: field numbers equal kubelet's api.proto (read from the Go module
// cache, where scripts/build-kube.sh put k8s.io/kubelet), round trips, and clear errors on bad input.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import {
  FIELDS,
  ProtoWriter,
  allocateResponse,
  frame,
  listAndWatchResponse,
  messages,
  preferredAllocationResponse,
  readAllocateRequest,
  readFields,
  readPreferredAllocationRequest,
  registerRequest,
  strings,
  unframe,
} from "./grpc-wire.ts";
import { versions } from "../../sandbox/paths.ts";

/** message name -> field name -> number, from a .proto file. */
function protoFields(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const m of text.matchAll(/message\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields: Record<string, number> = {};
    for (const f of m[2]!.matchAll(/^\s*(?:repeated\s+)?[\w.<>, ]+?\s+(\w+)\s*=\s*(\d+);/gm))
      fields[f[1]!] = Number(f[2]);
    out[m[1]!] = fields;
  }
  return out;
}

describe("device-plugin wire format", () => {
  test("field numbers are api.proto's of the kubelet the suite runs", () => {
    const gomod = spawnSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).stdout.trim();
    const proto = join(
      gomod,
      "k8s.io",
      `kubelet@v0.${versions.kubernetes.slice("v1.".length)}`,
      "pkg/apis/deviceplugin/v1beta1/api.proto",
    );
    if (!existsSync(proto)) throw new Error(`${proto} is missing: run \`bash scripts/prereqs.sh\` (it builds kubelet)`);
    const parsed = protoFields(readFileSync(proto, "utf8"));
    for (const [message, fields] of Object.entries(FIELDS))
      for (const [name, n] of Object.entries(fields))
        expect(`${message}.${name}=${parsed[message]?.[name]}`).toBe(`${message}.${name}=${n}`);
  });

  test("a RegisterRequest carries version, endpoint, resource and the preferred-allocation option", () => {
    const f = readFields(registerRequest("vpccni-eni-ip.sock", "tke.cloud.tencent.com/eni-ip"));
    expect(strings(f, 1)).toEqual(["v1beta1"]);
    expect(strings(f, 2)).toEqual(["vpccni-eni-ip.sock"]);
    expect(strings(f, 3)).toEqual(["tke.cloud.tencent.com/eni-ip"]);
    const [options] = messages(f, 4);
    expect(options).toEqual([{ field: 2, int: 1 }]);
  });

  test("devices, preferred allocations and allocations round-trip", () => {
    const devices = messages(
      readFields(
        listAndWatchResponse([
          { id: "eni-ip-0", healthy: true },
          { id: "eni-ip-1", healthy: false },
        ]),
      ),
      1,
    );
    expect(devices.map((d) => [strings(d, 1)[0], strings(d, 2)[0]])).toEqual([
      ["eni-ip-0", "Healthy"],
      ["eni-ip-1", "Unhealthy"],
    ]);
    const req = new ProtoWriter()
      .message(1, new ProtoWriter().string(1, "eni-ip-3").string(1, "eni-ip-1").string(2, "eni-ip-3").int(3, 2))
      .finish();
    expect(readPreferredAllocationRequest(req)).toEqual([
      { available: ["eni-ip-3", "eni-ip-1"], mustInclude: ["eni-ip-3"], size: 2 },
    ]);
    const resp = messages(readFields(preferredAllocationResponse([["eni-ip-1"], []])), 1);
    expect(resp.map((c) => strings(c, 1))).toEqual([["eni-ip-1"], []]);
    const alloc = new ProtoWriter()
      .message(1, new ProtoWriter().string(1, "eni-ip-0"))
      .message(1, new ProtoWriter())
      .finish();
    expect(readAllocateRequest(alloc)).toEqual([["eni-ip-0"], []]);
    expect(messages(readFields(allocateResponse(2)), 1)).toEqual([[], []]);
    // a 300-byte string needs a two-byte length
    const long = "x".repeat(300);
    expect(strings(readFields(new ProtoWriter().string(7, long).finish()), 7)).toEqual([long]);
  });

  test("framing: several messages in one body; truncated, compressed or malformed input is refused", () => {
    const a = new Uint8Array([8, 1]);
    expect(unframe(Buffer.concat([frame(a), frame(new Uint8Array())]))).toEqual([a, new Uint8Array()]);
    expect(() => unframe(Buffer.from([0, 0, 0]))).toThrow("grpc: truncated message prefix");
    expect(() => unframe(Buffer.from([0, 0, 0, 0, 9, 1]))).toThrow("grpc: truncated message");
    expect(() => unframe(Buffer.from([1, 0, 0, 0, 0]))).toThrow("grpc: compressed messages are not supported");
    expect(() => readFields(new Uint8Array([0x0a, 5, 1]))).toThrow("protobuf: truncated field");
    expect(() => readFields(new Uint8Array([0x08, 0xff]))).toThrow("protobuf: truncated varint");
    expect(() => readFields(new Uint8Array([0x0b]))).toThrow("protobuf: unsupported wire type 3");
  });
});
