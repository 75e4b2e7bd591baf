// The webhook's certificates: what X.509 parsers make of them (node:crypto and openssl), and a
// real TLS handshake that trusts only the CA and checks the Service's name.
import { describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { issueWebhookTls, serviceDnsNames } from "./certs.ts";

const NAMES = serviceDnsNames("vpccni-webhook", "vpccni-system");

describe("webhook certificates", () => {
  test("a CA and a serving certificate for the Service's names, signed by it", () => {
    const now = new Date("2026-11-30T00:00:00Z");
    const tls = issueWebhookTls(NAMES, { now, days: 30 });
    const ca = new X509Certificate(tls.caCert);
    const leaf = new X509Certificate(tls.cert);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.subjectAltName).toBe(NAMES.map((n) => `DNS:${n}`).join(", "));
    expect(leaf.checkHost("vpccni-webhook.vpccni-system.svc")).toBe("vpccni-webhook.vpccni-system.svc");
    expect(leaf.checkHost("other.vpccni-system.svc")).toBeUndefined();
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(new Date(leaf.validFrom).toISOString()).toBe("2026-11-29T23:00:00.000Z");
    expect(new Date(leaf.validTo).toISOString()).toBe("2026-12-30T00:00:00.000Z");
    // a second serving certificate from the same CA: the caBundle stays valid
    const again = issueWebhookTls(NAMES, { ca: { cert: tls.caCert, key: tls.caKey } });
    expect(again.caCert).toBe(tls.caCert);
    expect(new X509Certificate(again.cert).verify(ca.publicKey)).toBe(true);
    expect(again.key).not.toBe(tls.key);
  });

  test("openssl verifies the chain for TLS server use", () => {
    const dir = mkdtempSync(join(tmpdir(), "vpccni-certs-"));
    try {
      const tls = issueWebhookTls(NAMES);
      writeFileSync(join(dir, "ca.pem"), tls.caCert);
      writeFileSync(join(dir, "leaf.pem"), tls.cert);
      const r = spawnSync(
        "openssl",
        ["verify", "-purpose", "sslserver", "-CAfile", join(dir, "ca.pem"), join(dir, "leaf.pem")],
        { encoding: "utf8" },
      );
      if (r.error) throw new Error(`openssl is needed for this test (scripts/prereqs.sh): ${r.error.message}`);
      expect(`${r.stdout}${r.stderr}`.trim()).toBe(`${join(dir, "leaf.pem")}: OK`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a TLS server with them is trusted through the CA alone, by its Service name", async () => {
    const tls = issueWebhookTls(["localhost"]);
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert: tls.cert, key: tls.key },
      fetch: () => new Response("ok"),
    });
    try {
      const url = `https://localhost:${server.port}/`;
      expect(await (await fetch(url, { tls: { ca: tls.caCert } })).text()).toBe("ok");
      const other = issueWebhookTls(["localhost"]);
      await expect(fetch(url, { tls: { ca: other.caCert } })).rejects.toThrow();
    } finally {
      server.stop(true);
    }
  });
});
