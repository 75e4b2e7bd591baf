// Edges of the policy's cross-field rules that the fixtures did not pin (found by
// bench/mutation.ts): the value just past each limit is refused with its located diagnostic, the
// value at the limit is accepted, and a rule whose sibling field is itself wrong stays quiet, so
// that each mistake gets one diagnostic.
import { describe, expect, test } from "bun:test";
import { loadYamlText } from "./yaml-source.ts";
import { policyYaml } from "./policy-yaml-kit.ts";

const policy = (spec: string, name = "general") => policyYaml(name, { extra: spec });

const found = (spec: string, name?: string) =>
  loadYamlText(policy(spec, name), "p.yaml").diagnostics.map(
    (d) => `${d.line}:${d.col} ${d.code} ${d.path.join(".")}: ${d.message}`,
  );

describe("prebind", () => {
  test("min = max is valid; min = max + 1 is refused at min", () => {
    expect(found("  prebind: { min: 5, max: 5 }")).toEqual([]);
    expect(found("  prebind: { min: 6, max: 5 }")).toEqual([
      "9:19 prebind-min-above-max spec.prebind.min: spec.prebind.min is 6, greater than prebind.max (5); allowed: at most 5 (min <= max)",
    ]);
  });
  test("a min or max of the wrong type gets its own diagnostic, not a comparison as well", () => {
    expect(found('  prebind: { min: "8", max: 3 }')).toEqual([
      '9:19 invalid-type spec.prebind.min: spec.prebind.min must be an integer, found "8"',
    ]);
    expect(found('  prebind: { min: 8, max: "3" }')).toEqual([
      '9:27 invalid-type spec.prebind.max: spec.prebind.max must be an integer, found "3"',
    ]);
    expect(found("  prebind: null")).toEqual([
      "9:12 invalid-type spec.prebind: spec.prebind must be a mapping of fields, found null",
    ]);
  });
});

describe("fixedIp", () => {
  const fixed = (reclaim: string) => found(`  ipMode: fixed\n  fixedIp: { reclaim: ${reclaim} }`);
  test("reclaim: Immediate, Never, or a duration of 5m or more", () => {
    expect(fixed("Immediate")).toEqual([]);
    expect(fixed("Never")).toEqual([]);
    expect(fixed("5m")).toEqual([]);
    expect(fixed("4m59s")).toEqual([
      '10:23 reclaim-too-short spec.fixedIp.reclaim: spec.fixedIp.reclaim is "4m59s", shorter than 5m; allowed: Immediate, Never, or a duration of at least 5m',
    ]);
    expect(fixed('""')).toEqual([
      '10:23 invalid-value spec.fixedIp.reclaim: spec.fixedIp.reclaim is ""; expected Immediate, Never, or a duration of at least 5m such as "30m" or "24h"',
    ]);
  });
  test("only with ipMode: fixed; a misspelt ipMode gets only its own diagnostic", () => {
    expect(found("  ipMode: shared\n  fixedIp: { reclaim: Never }")).toEqual([
      '10:3 fixed-ip-needs-fixed-mode spec.fixedIp: spec.fixedIp is set but spec.ipMode is "shared"; allowed: fixedIp only with ipMode: fixed',
    ]);
    expect(found("  ipMode: fixd\n  fixedIp: { reclaim: Never }")).toEqual([
      '9:11 invalid-value spec.ipMode: spec.ipMode is "fixd"; allowed: "shared" or "fixed"; did you mean "fixed"?',
    ]);
  });
});

describe("webhook issuerRef", () => {
  const webhook = (w: string) => found(`  webhook: ${w}`);
  test("cert-manager's Issuer (the default kind) or ClusterIssuer, or an external issuer's own kind and group", () => {
    expect(webhook("{ tls: cert-manager, issuerRef: { name: ca } }")).toEqual([]);
    expect(webhook("{ tls: cert-manager, issuerRef: { name: ca, kind: ClusterIssuer } }")).toEqual([]);
    expect(
      webhook("{ tls: cert-manager, issuerRef: { name: ca, kind: AWSPCAIssuer, group: awspca.cert-manager.io } }"),
    ).toEqual([]);
  });
  test("another kind in group cert-manager.io, said or by default, is refused at kind", () => {
    const vault =
      '9:62 issuer-kind spec.webhook.issuerRef.kind: spec.webhook.issuerRef.kind is "Vault", not a kind of group cert-manager.io; allowed: Issuer or ClusterIssuer, or set group to the external issuer\'s API group';
    expect(webhook("{ tls: cert-manager, issuerRef: { name: ca, kind: Vault } }")).toEqual([vault]);
    expect(webhook("{ tls: cert-manager, issuerRef: { name: ca, kind: Vault, group: cert-manager.io } }")).toEqual([
      vault,
    ]);
  });
  test("names and kinds are checked for their form", () => {
    expect(webhook("{ tls: cert-manager, issuerRef: { name: Bad_Name } }")).toEqual([
      `9:52 invalid-format spec.webhook.issuerRef.name: spec.webhook.issuerRef.name is "Bad_Name"; expected a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
    ]);
    expect(webhook("{ tls: cert-manager, issuerRef: { name: ca, kind: lower } }")[0]).toBe(
      '9:62 invalid-format spec.webhook.issuerRef.kind: spec.webhook.issuerRef.kind is "lower"; expected a Kubernetes kind such as Issuer or ClusterIssuer',
    );
    expect(webhook("{ tls: cert-manager, issuerRef: null }")).toEqual([
      "9:44 invalid-type spec.webhook.issuerRef: spec.webhook.issuerRef must be a mapping of fields, found null",
    ]);
  });
  test("only with tls: cert-manager (said or by default self-managed); a misspelt tls gets only its own diagnostic", () => {
    const needs = (col: number) =>
      `9:${col} issuer-ref-needs-cert-manager spec.webhook.issuerRef: spec.webhook.issuerRef is set but spec.webhook.tls is "self-managed"; allowed: issuerRef only with tls: cert-manager`;
    expect(webhook("{ issuerRef: { name: ca } }")).toEqual([needs(14)]);
    expect(webhook("{ tls: self-managed, issuerRef: { name: ca } }")).toEqual([needs(33)]);
    expect(webhook("{ tls: certmanager, issuerRef: { name: ca } }")).toEqual([
      '9:19 invalid-value spec.webhook.tls: spec.webhook.tls is "certmanager"; allowed: "self-managed" or "cert-manager"; did you mean "cert-manager"?',
    ]);
  });
});

describe("metadata.name", () => {
  test("40 characters are valid, 41 are refused (the name prefixes generated object names)", () => {
    expect(found("", "a".repeat(40))).toEqual([]);
    expect(found("", "a".repeat(41))).toEqual([
      "3:19 out-of-range metadata.name: metadata.name must be at most 40 characters, found 41 characters",
    ]);
  });
});

describe("diagnostics as data (what `vpccni validate --output json` prints)", () => {
  const data = (spec: string) =>
    loadYamlText(policy(spec), "p.yaml").diagnostics.map(({ code, found, allowed, hint, secretAt }) => ({
      code,
      found,
      allowed,
      hint,
      secretAt,
    }));
  const FIELDS =
    "clusterId, region, vpcId, subnets, nodeSelector, ipMode, mode, enabled, prebind, releaseInterval, ipCooldown, limits, fixedIp, cloud, dataPlane, monitoring, webhook";
  test("each kind of mistake carries the value found, what is allowed, and a guess when there is one", () => {
    expect(data("  prebind: { min: x }")).toEqual([
      { code: "invalid-type", found: '"x"', allowed: "an integer", hint: undefined, secretAt: undefined },
    ]);
    expect(data("  prebind: { min: 300, max: 300 }")).toEqual([
      { code: "out-of-range", found: "300", allowed: "at most 256", hint: undefined, secretAt: undefined },
      { code: "out-of-range", found: "300", allowed: "at most 256", hint: undefined, secretAt: undefined },
    ]);
    expect(data("  prebnid: { min: 3 }")).toEqual([
      {
        code: "unknown-field",
        found: '"prebnid"',
        allowed: FIELDS,
        hint: 'did you mean "prebind"?',
        secretAt: undefined,
      },
    ]);
    expect(data("  routeTableBase: 100")[0]?.hint).toBeUndefined();
    expect(data("  ipMode: fixd")).toEqual([
      {
        code: "invalid-value",
        found: '"fixd"',
        allowed: '"shared" or "fixed"',
        hint: 'did you mean "fixed"?',
        secretAt: undefined,
      },
    ]);
    expect(data("  cloud: { rateLimits: { mutationsPerSecond: 1 } }")).toEqual([
      { code: "missing-field", found: undefined, allowed: "an integer", hint: undefined, secretAt: undefined },
    ]);
  });
  test("a cross-field rule's value found is the field it points at, not the mapping it checked", () => {
    expect(data("  prebind: { min: 6, max: 5 }")).toEqual([
      { code: "prebind-min-above-max", found: "6", allowed: undefined, hint: undefined, secretAt: undefined },
    ]);
    expect(data("  webhook: { tls: cert-manager, issuerRef: { name: ca, kind: Vault } }")).toEqual([
      {
        code: "issuer-kind",
        found: '"Vault"',
        allowed: "Issuer or ClusterIssuer (group cert-manager.io)",
        hint: undefined,
        secretAt: undefined,
      },
    ]);
  });
  test("a credential is never shown, only its length, and its span is marked for the renderer", () => {
    expect(data("  cloud: { secretKey: AKIDxxxxxxxxxxxxxxxxxxxxxxxx }")).toEqual([
      {
        code: "inline-credentials",
        found: "<redacted, 28 characters>",
        allowed: "spec.cloud.credentialsSecretRef naming a Secret",
        hint: undefined,
        secretAt: { line: 9, col: 23, length: 28 },
      },
    ]);
  });
});
