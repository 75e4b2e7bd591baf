// The fixed IP mode's cluster objects (spec/fixed-ip.md "Cluster objects"): zod types, one source
// of truth, and the CustomResourceDefinitions built from them. TKE publishes no field schemas;
// these are ours, group vpccni.io, version v1alpha1.
import { z } from "zod";
import { DURATION_PATTERN } from "./duration.ts";

export const CRD_GROUP = "vpccni.io";
export const CRD_VERSION = "v1alpha1";
export const CRD_API_VERSION = `${CRD_GROUP}/${CRD_VERSION}`;

const name = z.string().min(1).max(253);
const ipv4 = z.ipv4();
const subnetId = z.string().regex(/^subnet-[0-9a-z]+$/, { error: 'a VPC subnet id such as "subnet-1a2b3c4d"' });
const eniId = z.string().regex(/^eni-[0-9a-z]+$/, { error: 'an ENI id such as "eni-1a2b3c4d"' });
const timestamp = z.iso.datetime();
const duration = z.string().regex(new RegExp(DURATION_PATTERN)).min(2);

/** A cloud call recorded before it is made, so that a controller that crashes redoes it with the same token. */
export const PendingOperation = z.strictObject({
  action: z.enum(["create-eni", "assign", "unassign", "delete-eni"]),
  clientToken: z.string().min(1).max(64),
  eniId: eniId.optional(),
  address: ipv4.optional(),
  startedAt: timestamp,
});

export const VpcIPClaimSpec = z.strictObject({
  deletePolicy: z.enum(["Immediate", "Never"]).optional().meta({
    description: "From the pod's vpc-ip-claim-delete-policy annotation; absent: the policy's fixedIp.reclaim.",
  }),
  expiredDuration: duration.optional().meta({
    description: "From the pod's claim-expired-duration annotation: how long the address is kept after the pod.",
  }),
  nominatedAddress: ipv4.optional().meta({ description: "From the pod's nominated-vpc-ip annotation." }),
});
export const VpcIPClaimStatus = z.strictObject({
  phase: z.enum(["Pending", "Bound", "Kept", "Releasing", "Failed"]).optional(),
  address: ipv4.optional(),
  subnet: subnetId.optional(),
  node: name.optional(),
  eniId: eniId.optional(),
  podUID: z.string().optional().meta({
    description: "The pod that holds the address now; a new pod of the same name has another uid.",
  }),
  expiresAt: timestamp.optional().meta({ description: "When a kept claim is garbage-collected." }),
  message: z.string().optional(),
  pending: PendingOperation.optional(),
});

export const VpcIPSpec = z.strictObject({
  address: ipv4,
  subnet: subnetId,
  claim: z.strictObject({ namespace: name, name }),
});
export const VpcIPStatus = z.strictObject({
  phase: z.enum(["Reserved", "Attaching", "Attached", "Releasing"]).optional(),
  node: name.optional(),
  eniId: eniId.optional(),
  pending: PendingOperation.optional(),
});

export const VpcENISpec = z.strictObject({
  node: name,
  subnet: subnetId,
  reservedIPs: z.int().min(1).max(1000).meta({ description: "The ENI's IP quota, reserved for the node." }),
});
export const VpcENIStatus = z.strictObject({
  phase: z.enum(["Creating", "Attached", "Detaching", "Deleting"]).optional(),
  eniId: eniId.optional(),
  macAddress: z.string().optional(),
  primaryIP: ipv4.optional().meta({ description: "The ENI's own address: never a pod's." }),
  assignedIPs: z.int().min(0).optional(),
  pending: PendingOperation.optional(),
});

export const NodeENIConfigSpec = z.strictObject({
  instanceId: z
    .string()
    .regex(/^ins-[0-9a-z]+$/, { error: 'a CVM instance id such as "ins-1a2b3c4d"' })
    .optional(),
  eniIPQuota: z.int().min(1).max(1000).meta({ description: "Secondary IPs the node's ENI may hold." }),
});
export const NodeENIConfigStatus = z.strictObject({
  eni: name.optional().meta({ description: "The node's VpcENI; empty: no ENI bound." }),
  eniId: eniId.optional(),
  subnet: subnetId.optional(),
  message: z.string().optional().meta({ description: "Why binding the node's ENI failed, e.g. no subnet fits." }),
});

interface Column {
  name: string;
  type: "string" | "integer" | "date";
  jsonPath: string;
}
interface KindDef {
  kind: string;
  plural: string;
  shortName: string;
  scope: "Namespaced" | "Cluster";
  spec: z.ZodType;
  status: z.ZodType;
  columns: Column[];
}

const age: Column = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const FIXED_IP_KINDS: KindDef[] = [
  {
    kind: "VpcIPClaim",
    plural: "vpcipclaims",
    shortName: "vipc",
    scope: "Namespaced",
    spec: VpcIPClaimSpec,
    status: VpcIPClaimStatus,
    columns: [
      { name: "Address", type: "string", jsonPath: ".status.address" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Node", type: "string", jsonPath: ".status.node" },
      { name: "Expires", type: "string", jsonPath: ".status.expiresAt" },
      age,
    ],
  },
  {
    kind: "VpcIP",
    plural: "vpcips",
    shortName: "vip",
    scope: "Cluster",
    spec: VpcIPSpec,
    status: VpcIPStatus,
    columns: [
      { name: "Subnet", type: "string", jsonPath: ".spec.subnet" },
      { name: "Namespace", type: "string", jsonPath: ".spec.claim.namespace" },
      { name: "Claim", type: "string", jsonPath: ".spec.claim.name" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "ENI", type: "string", jsonPath: ".status.eniId" },
      age,
    ],
  },
  {
    kind: "VpcENI",
    plural: "vpcenis",
    shortName: "veni",
    scope: "Cluster",
    spec: VpcENISpec,
    status: VpcENIStatus,
    columns: [
      { name: "ENI", type: "string", jsonPath: ".status.eniId" },
      { name: "Node", type: "string", jsonPath: ".spec.node" },
      { name: "Subnet", type: "string", jsonPath: ".spec.subnet" },
      { name: "Reserved", type: "integer", jsonPath: ".spec.reservedIPs" },
      { name: "Assigned", type: "integer", jsonPath: ".status.assignedIPs" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      age,
    ],
  },
  {
    kind: "NodeENIConfig",
    plural: "nodeeniconfigs",
    shortName: "nec",
    scope: "Cluster",
    spec: NodeENIConfigSpec,
    status: NodeENIConfigStatus,
    columns: [
      { name: "Quota", type: "integer", jsonPath: ".spec.eniIPQuota" },
      { name: "ENI", type: "string", jsonPath: ".status.eniId" },
      { name: "Subnet", type: "string", jsonPath: ".status.subnet" },
      age,
    ],
  },
];

/**
 * An OpenAPI v3 schema as a structural CRD schema wants it: no `$schema`, no
 * `additionalProperties` beside `properties` (the API server prunes unknown fields instead),
 * and no zod pattern beside a `format` (ipv4, date-time) that the API server checks itself.
 */
export function structural(schema: z.ZodType): Record<string, unknown> {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "$schema") continue;
      if (k === "additionalProperties" && "properties" in node) continue;
      if (k === "pattern" && "format" in node) continue; // the API server checks the format itself
      out[k] = strip(v);
    }
    return out;
  };
  return strip(z.toJSONSchema(schema, { target: "openapi-3.0", io: "input", unrepresentable: "throw" })) as Record<
    string,
    unknown
  >;
}

/** The CustomResourceDefinition (apiextensions.k8s.io/v1) of one kind. */
export function customResourceDefinition(def: KindDef): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${CRD_GROUP}` },
    spec: {
      group: CRD_GROUP,
      names: {
        categories: ["vpccni"],
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        shortNames: [def.shortName],
        singular: def.kind.toLowerCase(),
      },
      scope: def.scope,
      versions: [
        {
          additionalPrinterColumns: def.columns,
          name: CRD_VERSION,
          schema: {
            openAPIV3Schema: {
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: structural(def.spec),
                status: structural(def.status),
              },
              required: ["spec"],
              type: "object",
            },
          },
          served: true,
          storage: true,
          subresources: { status: {} },
        },
      ],
    },
  };
}

/** The four CRDs of fixed IP mode, in a stable order. */
export function fixedIpCrds(): Record<string, unknown>[] {
  return FIXED_IP_KINDS.map(customResourceDefinition);
}

export type VpcIPClaim = { spec: z.infer<typeof VpcIPClaimSpec>; status?: z.infer<typeof VpcIPClaimStatus> };
export type VpcIP = { spec: z.infer<typeof VpcIPSpec>; status?: z.infer<typeof VpcIPStatus> };
export type VpcENI = { spec: z.infer<typeof VpcENISpec>; status?: z.infer<typeof VpcENIStatus> };
export type NodeENIConfig = { spec: z.infer<typeof NodeENIConfigSpec>; status?: z.infer<typeof NodeENIConfigStatus> };
