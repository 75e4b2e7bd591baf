// cert-manager mode's read of the Secret: what it serves, and the /readyz reason when it cannot
// serve yet. The real API server runs the same source in test/compiler/cert-manager.test.ts.
import { describe, expect, test } from "bun:test";
import { issueWebhookTls, serviceDnsNames } from "./certs.ts";
import { certManagerTls } from "./tls-source.ts";

const target = { namespace: "ns", secret: "tls", webhookService: "svc", webhookConfiguration: "cfg" };
const tls = issueWebhookTls(serviceDnsNames("svc", "ns"));
const other = issueWebhookTls(serviceDnsNames("svc", "ns"));

function source(data: Record<string, string> | null) {
  return certManagerTls({ getSecret: async () => (data === null ? null : { data, resourceVersion: "1" }) }, target);
}

describe("the cert-manager TLS source", () => {
  test("serves tls.crt and tls.key of a Secret shaped as cert-manager writes it", async () => {
    const got = await source({ "ca.crt": tls.caCert, "tls.crt": tls.cert, "tls.key": tls.key }).load();
    expect(got).toEqual({ tls: { cert: tls.cert, key: tls.key } });
  });

  test("waits, saying why: no Secret, no key pair yet, a key that is not the certificate's, not PEM", async () => {
    const reasons = await Promise.all(
      (
        [
          null,
          { "ca.crt": tls.caCert },
          { "tls.crt": tls.cert, "tls.key": other.key },
          { "tls.crt": "junk", "tls.key": tls.key },
          { "tls.crt": tls.cert, "tls.key": "junk" },
        ] as (Record<string, string> | null)[]
      ).map(async (d) => ((await source(d).load()) as { waiting: string }).waiting),
    );
    expect(reasons.slice(0, 3)).toEqual([
      "waiting for cert-manager to issue Secret ns/tls",
      "waiting for cert-manager to issue Secret ns/tls: it has no tls.crt or tls.key yet",
      "Secret ns/tls cannot be served: tls.key is not the key of tls.crt",
    ]);
    expect(reasons[3]).toStartWith("Secret ns/tls cannot be served: tls.crt is not a PEM certificate");
    expect(reasons[4]).toStartWith("Secret ns/tls cannot be served: tls.key is not a PEM private key");
  });
});
