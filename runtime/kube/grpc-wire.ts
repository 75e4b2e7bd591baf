// The little of gRPC and protobuf that kubelet's device-plugin API needs, on node:http2 (which
// Bun implements): a length-prefixed message framing, a proto3 field reader and writer, and the
// messages of k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1/api.proto this agent sends or reads.
// No code generation and no gRPC library in the agent: about 40 kB of dependencies less, and
// the field numbers are checked against the .proto by runtime/kube/grpc-wire.test.ts.

// ---- protobuf (proto3) wire format ----

const VARINT = 0;
const LEN = 2;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A message being written: fields in order of the calls. */
export class ProtoWriter {
  private readonly parts: number[] = [];

  string(field: number, value: string): this {
    if (value === "") return this; // proto3 default: not on the wire
    return this.bytes(field, new TextEncoder().encode(value));
  }

  bool(field: number, value: boolean): this {
    if (value) this.parts.push(...varint((field << 3) | VARINT), 1);
    return this;
  }

  int(field: number, value: number): this {
    if (value !== 0) this.parts.push(...varint((field << 3) | VARINT), ...varint(value));
    return this;
  }

  /** A nested message (written even when empty: a repeated element must be). */
  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  private bytes(field: number, b: Uint8Array): this {
    this.parts.push(...varint((field << 3) | LEN), ...varint(b.length), ...b);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface ProtoField {
  field: number;
  /** For a varint field. */
  int?: number;
  /** For a length-delimited field (string, bytes, nested message). */
  bytes?: Uint8Array;
}

/** The fields of a message in wire order; throws on a malformed or unsupported encoding. */
export function readFields(buf: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (let n = 0; n < 10; n++) {
      if (i >= buf.length) throw new Error("protobuf: truncated varint");
      const b = buf[i++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error("protobuf: varint too long");
  };
  while (i < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === VARINT) out.push({ field, int: readVarint() });
    else if (wire === LEN) {
      const len = readVarint();
      if (i + len > buf.length) throw new Error("protobuf: truncated field");
      out.push({ field, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array());

/** Every value of a repeated string field. */
export function strings(fields: ProtoField[], field: number): string[] {
  return fields.filter((f) => f.field === field && f.bytes).map((f) => text(f.bytes));
}

/** Every nested message of a repeated message field. */
export function messages(fields: ProtoField[], field: number): ProtoField[][] {
  return fields.filter((f) => f.field === field && f.bytes).map((f) => readFields(f.bytes!));
}

// ---- gRPC message framing (one compressed-flag byte, a 4-byte big-endian length) ----

export function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt8(0, 0);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Splits a request body into its messages; throws on a compressed or truncated one. */
export function unframe(body: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  while (i < body.length) {
    if (i + 5 > body.length) throw new Error("grpc: truncated message prefix");
    if (body.readUInt8(i) !== 0) throw new Error("grpc: compressed messages are not supported");
    const len = body.readUInt32BE(i + 1);
    if (i + 5 + len > body.length) throw new Error("grpc: truncated message");
    out.push(body.subarray(i + 5, i + 5 + len));
    i += 5 + len;
  }
  return out;
}

// ---- k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1 ----

export const DEVICE_PLUGIN_VERSION = "v1beta1";

/** Field numbers of the messages used, as api.proto has them (checked by the test). */
export const FIELDS = {
  RegisterRequest: { version: 1, endpoint: 2, resource_name: 3, options: 4 },
  DevicePluginOptions: { pre_start_required: 1, get_preferred_allocation_available: 2 },
  ListAndWatchResponse: { devices: 1 },
  Device: { ID: 1, health: 2 },
  PreferredAllocationRequest: { container_requests: 1 },
  ContainerPreferredAllocationRequest: { available_deviceIDs: 1, must_include_deviceIDs: 2, allocation_size: 3 },
  PreferredAllocationResponse: { container_responses: 1 },
  ContainerPreferredAllocationResponse: { deviceIDs: 1 },
  AllocateRequest: { container_requests: 1 },
  ContainerAllocateRequest: { devices_ids: 1 },
  AllocateResponse: { container_responses: 1 },
} as const;
const F = FIELDS;
export const HEALTHY = "Healthy";
export const UNHEALTHY = "Unhealthy";

/** RegisterRequest{version=1, endpoint=2, resource_name=3, options=4}. */
export function registerRequest(endpoint: string, resourceName: string): Uint8Array {
  return new ProtoWriter()
    .string(F.RegisterRequest.version, DEVICE_PLUGIN_VERSION)
    .string(F.RegisterRequest.endpoint, endpoint)
    .string(F.RegisterRequest.resource_name, resourceName)
    .message(F.RegisterRequest.options, devicePluginOptions())
    .finish();
}

/** DevicePluginOptions{pre_start_required=1, get_preferred_allocation_available=2}. */
export function devicePluginOptions(): ProtoWriter {
  return new ProtoWriter()
    .bool(F.DevicePluginOptions.pre_start_required, false)
    .bool(F.DevicePluginOptions.get_preferred_allocation_available, true);
}

/** ListAndWatchResponse{devices=1: Device{ID=1, health=2}}. */
export function listAndWatchResponse(devices: { id: string; healthy: boolean }[]): Uint8Array {
  const w = new ProtoWriter();
  for (const d of devices)
    w.message(
      F.ListAndWatchResponse.devices,
      new ProtoWriter().string(F.Device.ID, d.id).string(F.Device.health, d.healthy ? HEALTHY : UNHEALTHY),
    );
  return w.finish();
}

/** PreferredAllocationRequest{container_requests=1: {available=1, must_include=2, size=3}}. */
export function readPreferredAllocationRequest(
  buf: Uint8Array,
): { available: string[]; mustInclude: string[]; size: number }[] {
  const C = F.ContainerPreferredAllocationRequest;
  return messages(readFields(buf), F.PreferredAllocationRequest.container_requests).map((c) => ({
    available: strings(c, C.available_deviceIDs),
    mustInclude: strings(c, C.must_include_deviceIDs),
    size: c.find((f) => f.field === C.allocation_size)?.int ?? 0,
  }));
}

/** PreferredAllocationResponse{container_responses=1: {deviceIDs=1}}. */
export function preferredAllocationResponse(choices: string[][]): Uint8Array {
  const w = new ProtoWriter();
  for (const ids of choices) {
    const c = new ProtoWriter();
    for (const id of ids) c.string(F.ContainerPreferredAllocationResponse.deviceIDs, id);
    w.message(F.PreferredAllocationResponse.container_responses, c);
  }
  return w.finish();
}

/** AllocateRequest{container_requests=1: {devices_ids=1}}: the device IDs per container. */
export function readAllocateRequest(buf: Uint8Array): string[][] {
  return messages(readFields(buf), F.AllocateRequest.container_requests).map((c) =>
    strings(c, F.ContainerAllocateRequest.devices_ids),
  );
}

/** AllocateResponse{container_responses=1}: one empty ContainerAllocateResponse per container. */
export function allocateResponse(containers: number): Uint8Array {
  const w = new ProtoWriter();
  for (let i = 0; i < containers; i++) w.message(F.AllocateResponse.container_responses, new ProtoWriter());
  return w.finish();
}
