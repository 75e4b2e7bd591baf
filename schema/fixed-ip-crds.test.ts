// The CRD builder on its own: names, scope, status subresource, printer columns, and a schema
// that comes from the zod types and is structural (test/compiler/fixed-ip-crds.test.ts puts the
// same definitions on a real API server).
import { describe, expect, test } from "bun:test";
import { fixedIpCrds, VpcIPClaimSpec } from "./fixed-ip-crds.ts";

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
});
