// The VpcCniPolicy: what a platform team commits to Git. Every field has a description and,
// where one makes sense, a default; `docs/policy.md` and the JSON Schema are generated from
// this file, so the words here are the user's documentation.
import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { INSECURE_ENDPOINT_ALLOWED, isInsecureEndpoint } from "./endpoint.ts";

export const API_VERSION = "vpccni.io/v1alpha1";
export const KIND = "VpcCniPolicy";

/** A custom issue carries our diagnostic code and the rule it checks in `params`. */
function fail(ctx: z.RefinementCtx, path: PropertyKey[], code: string, message: string, allowed: string) {
  ctx.addIssue({ code: "custom", path, message, params: { code, allowed } });
}

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
    error: "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
  })
  .max(40, { error: "at most 40 characters (it prefixes generated object names)" });

const duration = (what: string) =>
  z.string().refine((s) => parseDuration(s) !== undefined, {
    error: `${what}: a duration such as "30s", "2m" or "1h30m" (hours, minutes, seconds)`,
  });

const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    {
      error: "a Kubernetes label key: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.'",
    },
  );
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, {
  error:
    "a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
});

export const SubnetId = z.string().regex(/^subnet-[a-z0-9]{8}$/, {
  error: "a subnet ID: 'subnet-' and 8 lowercase letters or digits, e.g. subnet-2x7k9abc",
});

export const Prebind = z
  .strictObject({
    min: z
      .int()
      .min(0)
      .max(256)
      .default(5)
      .meta({ description: "Idle IPs the node binds ahead of pods: bound IPs are raised at once to pods + min." }),
    max: z.int().min(0).max(256).default(5).meta({
      description:
        "Idle IPs the node may keep: above pods + max, idle IPs are released every releaseInterval. Keep it above min: with max = min (the 5/5 default) every pod deleted past the surplus is released and bound again, many times the cloud calls of a wider band (docs/pool.md; `vpccni simulate --recommend` picks one from a trace).",
    }),
  })
  .refine((p) => !(p.min > p.max), {
    path: ["min"],
    params: { code: "prebind-min-above-max" },
    error: (issue) => {
      const p = issue.input as { min: number; max: number };
      return `is ${p.min}, greater than prebind.max (${p.max}); allowed: at most ${p.max} (min <= max)`;
    },
    // Run even when a sibling field failed, so that all errors of a file come at once.
    when: (payload) => {
      const v = payload.value as { min?: unknown; max?: unknown } | null;
      return v !== null && typeof v === "object" && typeof v.min === "number" && typeof v.max === "number";
    },
  });

export const Limits = z.strictObject({
  maxEnisPerNode: z.int().min(1).max(64).optional().meta({
    description:
      "Lower the number of secondary ENIs a node may bind below the instance type's quota. Unset: the quota.",
  }),
  ipsPerEni: z
    .int()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: "Lower the secondary IPs per ENI below the instance type's quota. Unset: the quota." }),
});

export const Reclaim = z
  .string()
  .refine((s) => s === "Immediate" || s === "Never" || parseDuration(s) !== undefined, {
    error: 'Immediate, Never, or a duration of at least 5m such as "30m" or "24h"',
  })
  .superRefine((value, ctx) => {
    const ms = parseDuration(value);
    if (ms !== undefined && ms < 5 * 60_000) {
      fail(
        ctx,
        [],
        "reclaim-too-short",
        `is ${JSON.stringify(value)}, shorter than 5m; allowed: Immediate, Never, or a duration of at least 5m`,
        "Immediate, Never, or a duration of at least 5m",
      );
    }
  });

export const FixedIp = z.strictObject({
  reclaim: Reclaim.default("Never").meta({
    description:
      "When a deleted fixed-IP pod's IP goes back to the subnet: Immediate, Never (kept for the next pod of the same name), or after a duration of at least 5m.",
  }),
  cascade: z.boolean().default(false).meta({
    description:
      "Deleting a StatefulSet deletes its pods' claims and releases their IPs, whatever the reclaim says (TKE's --enable-ownerref). false: the claims outlive the StatefulSet until they expire or are deleted.",
  }),
});

export const SecretRef = z.strictObject({
  name: z
    .string()
    .min(1)
    .meta({ description: "Name of a Secret holding TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY." }),
  namespace: dnsLabel
    .optional()
    .meta({ description: "Namespace of the Secret. Unset: the namespace vpccni is deployed into." }),
});

export const RateLimits = z.strictObject({
  // At least one call in about 17 minutes (the budget waits, it never refuses: 0 would stop
  // the node), at most the account's own limit per action.
  mutationsPerSecond: z.number().min(0.001).max(100).meta({
    description:
      "Mutating calls per second the node's agent may make, all actions together (Create, Attach, Detach, Delete ENI; Assign, Unassign IPs). Calls beyond it wait; none fails.",
  }),
  burst: z
    .int()
    .min(1)
    .max(1000)
    .meta({ description: "Mutating calls the node may make at once after a quiet spell, before the rate paces it." }),
});

export const Cloud = z
  .strictObject({
    credentialsSecretRef: SecretRef.optional().meta({
      description:
        "Secret with the API key pair. Unset: the CVM role of the node, read from the instance metadata service.",
    }),
    endpoint: z
      .string()
      .regex(/^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, {
        error: "a host name with an optional port and http:// or https://, e.g. vpc.tencentcloudapi.com",
      })
      .default("vpc.tencentcloudapi.com")
      .meta({
        description:
          "VPC API endpoint. Change it for a private endpoint or the local emulator. A plain http:// endpoint must be on a loopback host (127.0.0.0/8, localhost) unless insecureEndpoint is true.",
      }),
    insecureEndpoint: z.boolean().optional().meta({
      description:
        "Allow a plain http:// endpoint on a host that is not loopback. The requests are signed but not encrypted: anyone on the path reads the answers and can forge them, and the agent writes the addresses and CIDRs they carry into the node's routes. Only for an emulator or a test bed on a network you trust. Unset: refused.",
    }),
    rateLimits: RateLimits.optional().meta({
      description:
        "The node's budget of mutating VPC API calls, shared by every node of the account (docs/pool.md, Fleet scale). Unset: 0.1 calls/s with a burst of 20, the fair share that keeps a 1,000-node cluster under the account's 100 calls/s. Raise it for small clusters that own the account; the fixed-IP controller has its own limits.",
    }),
  })
  .superRefine((cloud, ctx) => {
    if (cloud.insecureEndpoint === true || !isInsecureEndpoint(cloud.endpoint)) return;
    ctx.addIssue({
      code: "custom",
      path: ["endpoint"],
      input: cloud.endpoint,
      message: `is ${JSON.stringify(cloud.endpoint)}: plain http:// to a host that is not loopback, so the cloud's answers (the addresses and CIDRs the agent writes into routes) can be read and forged on the way; allowed: ${INSECURE_ENDPOINT_ALLOWED}`,
      params: { code: "insecure-endpoint", allowed: INSECURE_ENDPOINT_ALLOWED },
    });
  });

export const DataPlane = z.strictObject({
  routeTableBase: z.int().min(256).max(2_000_000_000).default(2000).meta({
    description:
      "Route table number of an ENI = its link index + this base (the product's rule: eth1 with index 3 uses table 2003).",
  }),
  manageRpFilter: z.boolean().default(true).meta({
    description:
      "Set rp_filter to 0 on all, the primary interface and every ENI. Reverse-path filtering drops pod traffic that leaves through a secondary ENI.",
  }),
  podMetadataAccess: z.boolean().default(false).meta({
    description:
      "Let pods reach the CVM instance metadata service (169.254.0.23), which hands out the node role's temporary credentials. false: a prohibit route in every ENI route table drops pods' packets to it; the node itself still reaches it. Read when the agent starts.",
  }),
});

export const Monitoring = z.strictObject({
  serviceMonitor: z.boolean().default(false).meta({
    description:
      "Generate a Prometheus Operator ServiceMonitor (monitoring.coreos.com/v1) that scrapes every agent through the metrics Service. The Prometheus Operator's CRDs must be installed first.",
  }),
  prometheusRules: z.boolean().default(false).meta({
    description:
      "Generate a PrometheusRule with vpccni's alerts: pods waiting for an IP, node at its ENI/IP quota, subnet free IPs low or gone, cloud API throttling, errors and auth failures, agent down. Needs the Prometheus Operator's CRDs.",
  }),
});

const dnsSubdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
  });

/** cert-manager's own issuer kinds; other API groups are external issuers with kinds of their own. */
const CERT_MANAGER_GROUP = "cert-manager.io";

export const IssuerRef = z
  .strictObject({
    name: dnsSubdomain.meta({ description: "Name of the issuer." }),
    kind: z
      .string()
      .regex(/^[A-Z][A-Za-z0-9]*$/, { error: "a Kubernetes kind such as Issuer or ClusterIssuer" })
      .default("Issuer")
      .meta({
        description:
          "Issuer (in vpccni's namespace) or ClusterIssuer; an external issuer's own kind when group is not cert-manager.io.",
      }),
    group: dnsSubdomain
      .default(CERT_MANAGER_GROUP)
      .meta({ description: "API group of the issuer: cert-manager.io, or an external issuer's group." }),
  })
  .refine((r) => r.group !== CERT_MANAGER_GROUP || r.kind === "Issuer" || r.kind === "ClusterIssuer", {
    path: ["kind"],
    params: { code: "issuer-kind", allowed: "Issuer or ClusterIssuer (group cert-manager.io)" },
    error: (issue) =>
      `is ${JSON.stringify((issue.input as { kind?: unknown }).kind)}, not a kind of group cert-manager.io; allowed: Issuer or ClusterIssuer, or set group to the external issuer's API group`,
    when: (payload) => {
      const v = payload.value as { kind?: unknown; group?: unknown } | null;
      return (
        v !== null &&
        typeof v === "object" &&
        typeof v.kind === "string" &&
        (v.group === undefined || v.group === CERT_MANAGER_GROUP)
      );
    },
  });

export const Webhook = z
  .strictObject({
    tls: z.enum(["self-managed", "cert-manager"]).default("self-managed").meta({
      description:
        "Where the eni-ip webhook's serving certificate comes from. self-managed: the controller keeps a CA and serving key in the Secret vpccni-webhook-tls and sets the webhook configuration's caBundle itself; nothing else to install. cert-manager: cert-manager issues the Secret from a Certificate the compiler writes and its cainjector sets the caBundle; the controller only reads the Secret (and loses its rights to write Secrets and the webhook configuration). cert-manager must be installed first (docs/operations.md).",
    }),
    issuerRef: IssuerRef.optional().meta({
      description:
        "The issuer that signs the webhook's certificate; only with tls: cert-manager. Unset: the compiler writes a self-signed Issuer, a CA Certificate and a CA Issuer in vpccni's namespace.",
    }),
  })
  .refine((w) => w.issuerRef === undefined || w.tls === "cert-manager", {
    path: ["issuerRef"],
    params: { code: "issuer-ref-needs-cert-manager", allowed: "issuerRef only with tls: cert-manager" },
    error: (issue) =>
      `is set but spec.webhook.tls is ${JSON.stringify((issue.input as { tls?: unknown }).tls ?? "self-managed")}; allowed: issuerRef only with tls: cert-manager`,
    when: (payload) => {
      const v = payload.value as { issuerRef?: unknown; tls?: unknown } | null;
      // Only when tls itself is valid: a misspelt tls gets its own diagnostic.
      return (
        v !== null &&
        typeof v === "object" &&
        v.issuerRef !== undefined &&
        (v.tls === undefined || v.tls === "self-managed")
      );
    },
  });

export const Spec = z
  .strictObject({
    clusterId: dnsLabel.meta({
      description: "Cluster this policy belongs to (e.g. cls-8x2kq7ab); tags every ENI so leaked ENIs can be found.",
    }),
    region: z
      .string()
      .regex(/^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)?$/, {
        error: "a Tencent Cloud region such as ap-guangzhou or na-siliconvalley",
      })
      .meta({ description: "Tencent Cloud region of the VPC, e.g. ap-guangzhou." }),
    vpcId: z
      .string()
      .regex(/^vpc-[a-z0-9]{8}$/, { error: "a VPC ID: 'vpc-' and 8 lowercase letters or digits, e.g. vpc-4tg8xk2m" })
      .meta({ description: "VPC whose subnets give pods their IPs." }),
    subnets: z
      .array(SubnetId)
      .min(1, { error: "at least one subnet" })
      .max(32)
      .superRefine((value, ctx) => {
        const seen = new Map<string, number>();
        value.forEach((id, i) => {
          const first = seen.get(id);
          if (first !== undefined)
            fail(
              ctx,
              [i],
              "duplicate-subnet",
              `is ${JSON.stringify(id)}, already listed at index ${first}; allowed: each subnet once`,
              "each subnet once",
            );
          else seen.set(id, i);
        });
      })
      .meta({ description: "Pod subnets. A new ENI goes into the one with the most available IPs." }),
    nodeSelector: z.record(labelKey, labelValue).default({}).meta({
      description:
        "Node labels this policy governs (all must match). Empty: every node. Two policies must not be able to select the same node.",
    }),
    ipMode: z.enum(["shared", "fixed"]).default("shared").meta({
      description:
        "shared: a node-level pool of secondary IPs on shared ENIs. fixed: a cluster-level pool; a pod keeps its IP across re-creation. Can only be chosen when a cluster is created.",
    }),
    mode: z.enum(["default", "mixed"]).default("default").meta({
      description:
        "default: vpccni is the cluster's CNI and every pod gets a VPC IP. mixed: the cluster keeps its current CNI as the default and only pods annotated tke.cloud.tencent.com/networks: tke-route-eni get VPC IPs; the vpccni plugin hands every other pod to the node's previous CNI configuration (docs/cni.md, Mixed mode). All policies of a cluster must use the same mode.",
    }),
    enabled: z.boolean().default(true).meta({
      description:
        "false switches vpccni off on the policy's nodes, in two steps (docs/operations.md, Switching off): new pods that would use vpccni are refused with CNI error 104, pods already running keep their IPs; once a node has no vpccni pod left, its agent releases every secondary IP, detaches and deletes its ENIs, removes its rules, route tables, the sysctls it changed and its CNI configuration (mixed mode: the node's previous one applies again), and sets the Node condition VpccniDrained. Only then delete the policy from Git.",
    }),
    prebind: Prebind.default({ min: 5, max: 5 }).meta({
      description: "Idle IPs kept bound ahead of pods (shared mode).",
    }),
    releaseInterval: duration("releaseInterval")
      .default("2m")
      .meta({ description: "How often idle IPs above pods + prebind.max are released to the VPC." }),
    ipCooldown: duration("ipCooldown").default("30s").meta({
      description:
        "How long a freed pod IP rests before another pod gets it, so that peers' stale ARP and conntrack entries expire first. 0s disables it.",
    }),
    limits: Limits.optional().meta({ description: "Lower-only overrides of the instance type's ENI and IP quotas." }),
    fixedIp: FixedIp.optional().meta({ description: "Fixed IP settings; only with ipMode: fixed." }),
    cloud: Cloud.default({ endpoint: "vpc.tencentcloudapi.com" }).meta({
      description: "How the node reaches the Tencent Cloud VPC API.",
    }),
    dataPlane: DataPlane.default({ routeTableBase: 2000, manageRpFilter: true, podMetadataAccess: false }).meta({
      description: "Node data plane settings.",
    }),
    monitoring: Monitoring.optional().meta({
      description:
        "Prometheus Operator objects for the whole cluster (one set, generated when any policy asks for them). Unset: none; the metrics Service keeps its prometheus.io/* annotations.",
    }),
    webhook: Webhook.optional().meta({
      description:
        "The eni-ip admission webhook, one for the whole cluster: the policies that set it must agree, and the others follow them. Unset in every policy: tls: self-managed.",
    }),
  })
  .refine((spec) => spec.fixedIp === undefined || spec.ipMode === "fixed", {
    path: ["fixedIp"],
    params: { code: "fixed-ip-needs-fixed-mode" },
    error: (issue) =>
      `is set but spec.ipMode is ${JSON.stringify((issue.input as { ipMode?: unknown }).ipMode ?? "shared")}; allowed: fixedIp only with ipMode: fixed`,
    when: (payload) => {
      const v = payload.value as { fixedIp?: unknown; ipMode?: unknown };
      // Only when ipMode itself is valid: a misspelt ipMode gets its own diagnostic.
      return (
        v !== null &&
        typeof v === "object" &&
        v.fixedIp !== undefined &&
        (v.ipMode === undefined || v.ipMode === "shared")
      );
    },
  });

export const Metadata = z.strictObject({
  name: dnsLabel.meta({ description: "Policy name; unique in the cluster. Generated objects are named after it." }),
  labels: z.record(labelKey, labelValue).optional().meta({ description: "Labels copied onto the generated objects." }),
  annotations: z.record(z.string(), z.string()).optional().meta({ description: "Annotations kept on the policy." }),
});

export const VpcCniPolicy = z
  .strictObject({
    apiVersion: z.literal(API_VERSION).meta({ description: `Always ${API_VERSION}.` }),
    kind: z.literal(KIND).meta({ description: `Always ${KIND}.` }),
    metadata: Metadata.meta({ description: "Name and labels of the policy." }),
    spec: Spec.meta({
      description: "What the policy's nodes do: subnets, IP mode, warm pool, cloud access, data plane.",
    }),
  })
  .meta({
    id: "VpcCniPolicy",
    title: "VpcCniPolicy",
    description: "Pod networking on Tencent Cloud VPC secondary IPs, for the nodes a selector picks.",
  });

/** A policy as written (defaults optional). */
export type VpcCniPolicyInput = z.input<typeof VpcCniPolicy>;
/** A policy after validation, with every default filled in. */
export type VpcCniPolicy = z.output<typeof VpcCniPolicy>;
export type PolicySpec = VpcCniPolicy["spec"];

/** Typed helper for policies written in TypeScript: `export default definePolicy({...})`. */
export function definePolicy(policy: VpcCniPolicyInput): VpcCniPolicyInput {
  return policy;
}
