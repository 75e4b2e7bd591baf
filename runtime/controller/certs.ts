// The webhook's TLS without openssl or a certificate library: a self-signed CA and a serving
// certificate for the webhook Service's DNS names, ECDSA P-256 keys from node:crypto, X.509 v3
// written in DER here (node:crypto parses and verifies certificates but cannot issue them).
// The API server trusts the CA through the webhook configuration's caBundle.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

// ---- DER ----

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyId: "2.5.29.14",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

const name = (cn: string, o: string) =>
  seq(set(seq(oid(OID.organization), utf8(o))), set(seq(oid(OID.commonName), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
/** KeyUsage bits: digitalSignature (bit 0), keyCertSign (bit 5), cRLSign (bit 6). */
const keyUsage = (ca: boolean) => (ca ? tlv(0x03, Buffer.from([1, 0x06])) : tlv(0x03, Buffer.from([7, 0x80])));

interface CertInput {
  subject: { cn: string; o: string };
  issuer: { cn: string; o: string };
  publicKey: KeyObject;
  signingKey: KeyObject;
  ca: boolean;
  dnsNames?: string[];
  notBefore: Date;
  notAfter: Date;
}

function certificate(c: CertInput): string {
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const spki = c.publicKey.export({ type: "spki", format: "der" });
  const extensions = [
    extension(OID.basicConstraints, true, seq(...(c.ca ? [bool(true)] : []))),
    extension(OID.keyUsage, true, keyUsage(c.ca)),
    ...(c.ca ? [] : [extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth)))]),
    ...(c.dnsNames?.length
      ? [extension(OID.subjectAltName, false, seq(...c.dnsNames.map((d) => tlv(0x82, Buffer.from(d, "ascii")))))]
      : []),
  ];
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name(c.issuer.cn, c.issuer.o),
    seq(time(c.notBefore), time(c.notAfter)),
    name(c.subject.cn, c.subject.o),
    spki,
    explicit(3, seq(...extensions)),
  );
  const signature = sign("sha256", tbs, c.signingKey);
  const der = seq(tbs, algorithm, bits(signature));
  const b64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END CERTIFICATE-----\n`;
}

export interface WebhookTls {
  /** PEM: the CA the API server trusts (the webhook configuration's caBundle). */
  caCert: string;
  caKey: string;
  /** PEM: the serving certificate and its key. */
  cert: string;
  key: string;
}

const ORG = "vpccni";
const DAY = 24 * 3600 * 1000;

/** DNS names of a Service, as the API server dials it. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/**
 * A CA valid for `caDays` and a serving certificate it signs for `dnsNames`, valid for
 * `days`; both start an hour early (clock skew). An existing CA (PEM cert + key) is reused.
 */
export function issueWebhookTls(
  dnsNames: string[],
  opts: { now?: Date; days?: number; caDays?: number; ca?: { cert: string; key: string } } = {},
): WebhookTls {
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - 3600_000);
  const caSubject = { cn: "vpccni-webhook-ca", o: ORG };
  let caCert: string;
  let caKey: KeyObject;
  if (opts.ca) {
    caCert = opts.ca.cert;
    caKey = createPrivateKey(opts.ca.key);
  } else {
    const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    caKey = pair.privateKey;
    caCert = certificate({
      subject: caSubject,
      issuer: caSubject,
      publicKey: pair.publicKey,
      signingKey: caKey,
      ca: true,
      notBefore,
      notAfter: new Date(now.getTime() + (opts.caDays ?? 3650) * DAY),
    });
  }
  const leaf = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const cert = certificate({
    subject: { cn: dnsNames[0] ?? "vpccni-webhook", o: ORG },
    issuer: caSubject,
    publicKey: leaf.publicKey,
    signingKey: caKey,
    ca: false,
    dnsNames,
    notBefore,
    notAfter: new Date(now.getTime() + (opts.days ?? 365) * DAY),
  });
  return {
    caCert,
    caKey: caKey.export({ type: "pkcs8", format: "pem" }) as string,
    cert,
    key: leaf.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
  };
}
