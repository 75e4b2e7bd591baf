// The CRD builder on its own: names, scope, status subresource, printer columns, and a schema
// that comes from the zod types and is structural (test/compiler/fixed-ip-crds.test.ts puts the
// same definitions on a real API server).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  CRD_API_VERSION,
  fixedIpCrds,
  NodeENIConfigSpec,
  PendingOperation,
  VpcENISpec,
  VpcIPClaimSpec,
  VpcIPClaimStatus,
  VpcIPSpec,
} from "./fixed-ip-crds.ts";

type Crd = {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; shortNames: string[]; plural: string };
    versions: {
      name: string;
      subresources: unknown;
      additionalPrinterColumns: { jsonPath: string }[];
      schema: { openAPIV3Schema: { properties: Record<string, unknown> } };
    }[];
  };
};

const crds = () => fixedIpCrds() as unknown as Crd[];

function walk(node: unknown, visit: (n: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node !== null && typeof node === "object") {
    visit(node as Record<string, unknown>);
    Object.values(node).forEach((n) => walk(n, visit));
  }
}

describe("fixed IP CRDs", () => {
  test("four kinds in group vpccni.io v1alpha1, with short names, scope and a status subresource", () => {
    expect(
      crds().map((c) => [c.metadata.name, c.spec.names.kind, c.spec.names.shortNames, c.spec.scope, c.spec.group]),
    ).toEqual([
      ["vpcipclaims.vpccni.io", "VpcIPClaim", ["vipc"], "Namespaced", "vpccni.io"],
      ["vpcips.vpccni.io", "VpcIP", ["vip"], "Cluster", "vpccni.io"],
      ["vpcenis.vpccni.io", "VpcENI", ["veni"], "Cluster", "vpccni.io"],
      ["nodeeniconfigs.vpccni.io", "NodeENIConfig", ["nec"], "Cluster", "vpccni.io"],
    ]);
    for (const c of crds()) {
      const [v] = c.spec.versions;
      expect(v!.name).toBe("v1alpha1");
      expect(v!.subresources).toEqual({ status: {} });
      expect(v!.additionalPrinterColumns.at(-1)!.jsonPath).toBe(".metadata.creationTimestamp");
    }
  });

  test("the openAPIV3Schema comes from the zod types and is structural", () => {
    const claim = crds()[0]!.spec.versions[0]!.schema.openAPIV3Schema.properties.spec as {
      properties: { deletePolicy: { enum: string[] } };
    };
    expect(claim.properties.deletePolicy.enum).toEqual(VpcIPClaimSpec.shape.deletePolicy.unwrap().options);
    for (const c of crds()) {
      walk(c.spec.versions[0]!.schema, (n) => {
        expect(Object.keys(n)).not.toContain("$schema");
        expect(Object.keys(n)).not.toContain("$ref");
        if ("properties" in n) expect(Object.keys(n)).not.toContain("additionalProperties");
      });
    }
  });

  test("byte-stable: two builds give the same text", () => {
    expect(JSON.stringify(fixedIpCrds())).toBe(JSON.stringify(fixedIpCrds()));
  });

  test("are, field for field, the CRDs committed in examples/deploy (the compiler only adds labels)", () => {
    const deploy = join(import.meta.dir, "..", "examples", "deploy");
    for (const c of crds()) {
      const file = join(deploy, `10-customresourcedefinition-${c.metadata.name}.yaml`);
      const committed = parse(readFileSync(file, "utf8")) as { metadata: { name: string }; spec: unknown };
      expect(committed.metadata.name).toBe(c.metadata.name);
      expect(c.spec).toEqual(committed.spec as Crd["spec"]);
    }
    expect(CRD_API_VERSION).toBe("vpccni.io/v1alpha1");
  });
});

describe("fixed IP object types", () => {
  const errors = (
    type: {
      safeParse: (v: unknown) => { success: boolean; error?: { issues: { message: string; path: PropertyKey[] }[] } };
    },
    v: unknown,
  ) => type.safeParse(v).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];

  test("ids have their prefix and lowercase letters or digits, whole", () => {
    const ok = { address: "10.0.0.5", subnet: "subnet-1a2b3c4d", claim: { namespace: "default", name: "web-0" } };
    expect(errors(VpcIPSpec, ok)).toEqual([]);
    for (const subnet of ["subnet-", "subnet-ABC", "xsubnet-1a2b", "subnet-1a2b-x"])
      expect(errors(VpcIPSpec, { ...ok, subnet })).toEqual([`subnet: a VPC subnet id such as "subnet-1a2b3c4d"`]);
    expect(errors(VpcIPSpec, { ...ok, subnet: "subnet-ab" })).toEqual([]);
    expect(errors(VpcIPSpec, { ...ok, claim: { namespace: "", name: "x".repeat(254) } })).toHaveLength(2);
    expect(errors(VpcIPSpec, { ...ok, claim: { namespace: "n", name: "x".repeat(253) } })).toEqual([]);
    const status = { eniId: "eni-1a2b3c4d", phase: "Bound" };
    expect(errors(VpcIPClaimStatus, status)).toEqual([]);
    for (const eniId of ["eni-", "eni-X1", "aeni-12", "eni-12 "])
      expect(errors(VpcIPClaimStatus, { ...status, eniId })).toEqual([`eniId: an ENI id such as "eni-1a2b3c4d"`]);
    expect(errors(VpcIPClaimStatus, { ...status, eniId: "eni-ab" })).toEqual([]);
    expect(errors(NodeENIConfigSpec, { instanceId: "ins-1a2b", eniIPQuota: 10 })).toEqual([]);
    expect(errors(NodeENIConfigSpec, { instanceId: "ins-1A", eniIPQuota: 10 })).toEqual([
      `instanceId: a CVM instance id such as "ins-1a2b3c4d"`,
    ]);
  });

  test("a journaled cloud call: one of four actions, a token of 1 to 64 characters, a timestamp", () => {
    const op = { action: "assign", clientToken: "t", startedAt: "2026-01-01T00:00:00Z" };
    for (const action of ["create-eni", "assign", "unassign", "delete-eni"])
      expect(errors(PendingOperation, { ...op, action })).toEqual([]);
    expect(errors(PendingOperation, { ...op, action: "attach" })).toHaveLength(1);
    expect(errors(PendingOperation, { ...op, clientToken: "x".repeat(64) })).toEqual([]);
    expect(errors(PendingOperation, { ...op, clientToken: "x".repeat(65) })).toHaveLength(1);
    expect(errors(PendingOperation, { ...op, clientToken: "" })).toHaveLength(1);
    expect(errors(PendingOperation, { ...op, startedAt: "yesterday" })).toHaveLength(1);
  });

  test("a claim's expiry is a duration of two characters or more; quotas are 1 to 1,000 IPs", () => {
    expect(errors(VpcIPClaimSpec, { expiredDuration: "5m", deletePolicy: "Never" })).toEqual([]);
    expect(errors(VpcIPClaimSpec, { expiredDuration: "" })).toEqual([
      "expiredDuration: Too small: expected string to have >=2 characters",
    ]); // the pattern alone would take an empty string
    expect(errors(VpcIPClaimSpec, { expiredDuration: "5" })).toHaveLength(2);
    expect(errors(VpcIPClaimSpec, { deletePolicy: "Later" })).toHaveLength(1);
    const eni = { node: "n1", subnet: "subnet-ab12" };
    expect(errors(VpcENISpec, { ...eni, reservedIPs: 1 })).toEqual([]);
    expect(errors(VpcENISpec, { ...eni, reservedIPs: 1000 })).toEqual([]);
    expect(errors(VpcENISpec, { ...eni, reservedIPs: 0 })).toHaveLength(1);
    expect(errors(VpcENISpec, { ...eni, reservedIPs: 1001 })).toHaveLength(1);
  });
});
