// TC3-HMAC-SHA256, written from the public API 3.0 signing document: the emulator recomputes
// the signature of every request and compares it with the one the client sent.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface SignInput {
  secretKey: string;
  service: string;
  timestamp: number;
  /** The signed headers by lower-case name; the SDK signs content-type and host. */
  headers: Record<string, string>;
  body: string | Uint8Array;
  method?: string;
  path?: string;
  query?: string;
}

const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** The UTC date of a unix timestamp in seconds, as the credential scope spells it. */
export function scopeDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

export function signedHeaderNames(input: SignInput): string[] {
  return Object.keys(input.headers)
    .map((k) => k.toLowerCase())
    .sort();
}

export function canonicalRequest(input: SignInput): string {
  const lower = Object.fromEntries(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const names = signedHeaderNames(input);
  const headers = names.map((n) => `${n}:${lower[n]}\n`).join("");
  return [
    input.method ?? "POST",
    input.path ?? "/",
    input.query ?? "",
    headers,
    names.join(";"),
    sha256Hex(input.body),
  ].join("\n");
}

export function stringToSign(input: SignInput): string {
  const scope = `${scopeDate(input.timestamp)}/${input.service}/tc3_request`;
  return ["TC3-HMAC-SHA256", String(input.timestamp), scope, sha256Hex(canonicalRequest(input))].join("\n");
}

export function signature(input: SignInput): string {
  const kDate = hmac("TC3" + input.secretKey, scopeDate(input.timestamp));
  const kService = hmac(kDate, input.service);
  const kSigning = hmac(kService, "tc3_request");
  return createHmac("sha256", kSigning).update(stringToSign(input)).digest("hex");
}

export function authorization(secretId: string, input: SignInput): string {
  const scope = `${scopeDate(input.timestamp)}/${input.service}/tc3_request`;
  return `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, SignedHeaders=${signedHeaderNames(input).join(";")}, Signature=${signature(input)}`;
}

export interface ParsedAuthorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses the Authorization header; undefined when it is not a TC3 header at all. */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m =
    /^TC3-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{4}-\d{2}-\d{2})\/([^/,\s]+)\/tc3_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      header.trim(),
    );
  if (!m) return undefined;
  return { secretId: m[1]!, date: m[2]!, service: m[3]!, signedHeaders: m[4]!.split(";"), signature: m[5]! };
}

export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
