// The emulator's configuration file (YAML or JSON): the world to serve, behaviour settings
// and faults. Everything has a default, so an empty file (or none) is a valid configuration.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";

const resourceId = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}-[a-z0-9]{8}$`), { error: `an ID '${prefix}-' and 8 lowercase letters or digits` });

export const ACTIONS = [
  "CreateNetworkInterface",
  "AttachNetworkInterface",
  "DetachNetworkInterface",
  "DeleteNetworkInterface",
  "AssignPrivateIpAddresses",
  "UnassignPrivateIpAddresses",
  "DescribeNetworkInterfaces",
  "DescribeSubnets",
  "DescribeNetworkInterfaceLimit",
  "DescribeVpcTaskResult",
] as const;
export type Action = (typeof ACTIONS)[number];

const Latency = z.union([
  z.strictObject({ fixedMs: z.number().min(0) }),
  z.strictObject({ uniformMs: z.tuple([z.number().min(0), z.number().min(0)]) }),
  z.strictObject({ exponentialMeanMs: z.number().min(0) }),
]);

export const ActionFault = z.strictObject({
  /** Share of requests answered with errorCode instead of the real answer. */
  errorRate: z.number().min(0).max(1).default(0),
  errorCode: z.string().min(1).default("InternalError"),
  /** before: nothing happened; after: the action took effect but the caller hears the error. */
  errorPhase: z.enum(["before", "after", "either"]).default("either"),
  /** Requests per second the action accepts before RequestLimitExceeded (token bucket, burst = qps). */
  qps: z.number().positive().optional(),
  latency: Latency.optional(),
  /** Share of requests never answered (until the emulator stops). */
  hangRate: z.number().min(0).max(1).default(0),
  /** Share of the action's asynchronous tasks that end FAILED, undoing what the call started. */
  taskFailRate: z.number().min(0).max(1).default(0),
  /** Describe actions answer from the state as it was this long ago (eventual consistency). */
  staleMs: z.int().min(0).default(0),
  /**
   * Answer fields replaced: every field of one of these names, at any depth of the answer, is
   * answered with the given string instead (the state is untouched). A broken or hostile cloud,
   * for tests of the client's checks at its boundary (a CIDR with a newline in it).
   */
  tamper: z.record(z.string().min(1), z.string()).optional(),
});
export type ActionFault = z.output<typeof ActionFault>;

/** Per action name, or "*" for every action without its own entry. */
export const Faults = z.record(z.string(), ActionFault).superRefine((faults, ctx) => {
  for (const name of Object.keys(faults)) {
    if (name !== "*" && !(ACTIONS as readonly string[]).includes(name)) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: `fault for unknown action '${name}'; allowed: "*" or one of ${ACTIONS.join(", ")}`,
      });
    }
  }
});
export type Faults = z.output<typeof Faults>;

/**
 * Default requests per second of each action ("默认接口请求频率限制" on its page of the VPC API
 * reference, document/api/215/<page>); beyond it the action answers RequestLimitExceeded. The
 * international pages give Attach and Detach 100/s; the Chinese ones (followed here) 50/s.
 * DescribeNetworkInterfaces and DescribeSubnets have no default here: no limit was checked.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Partial<Record<Action, number>>> = {
  AssignPrivateIpAddresses: 100,
  UnassignPrivateIpAddresses: 100,
  CreateNetworkInterface: 100,
  DeleteNetworkInterface: 100,
  AttachNetworkInterface: 50,
  DetachNetworkInterface: 50,
  DescribeVpcTaskResult: 20,
  DescribeNetworkInterfaceLimit: 20,
};

export const Settings = z.strictObject({
  /**
   * Requests per second per action (token bucket on the emulator clock, burst = the rate) over
   * DEFAULT_RATE_LIMITS; 0 lifts an action's limit. A `qps` fault of the action wins over both.
   */
  rateLimits: z.partialRecord(z.enum(ACTIONS), z.number().min(0)).default({}),
  /** How long each asynchronous task runs before it completes, in ms. */
  asyncMs: z
    .strictObject({
      create: z.int().min(0).default(50),
      attach: z.int().min(0).default(500),
      detach: z.int().min(0).default(300),
      delete: z.int().min(0).default(50),
      assign: z.int().min(0).default(50),
      unassign: z.int().min(0).default(50),
    })
    .default({ create: 50, attach: 500, detach: 300, delete: 50, assign: 50, unassign: 50 }),
  /** Cap of PrivateIpAddresses and SecondaryPrivateIpAddressCount per call (unconfirmed in the docs; 10). */
  maxIpsPerCall: z.int().min(1).default(10),
  /** Whether EniQuantity counts the primary ENI and EniPrivateIpAddressQuantity the primary IP. */
  limitsIncludePrimary: z.boolean().default(true),
  /** IP cap of an ENI attached to no instance (the instance type caps attached ones). */
  unattachedEniIpLimit: z.int().min(1).default(30),
  /** Secondary ENIs the account may own in the region (LimitExceeded.NetworkInterfaceLimitExceeded). */
  maxEnis: z.int().min(1).default(1000),
  /** Largest accepted difference between X-TC-Timestamp and the emulator clock. */
  clockSkewSec: z.int().min(1).default(300),
  /** What Describe does with IDs that do not exist: leave them out, or fail (the docs do not say). */
  unknownIdInDescribe: z.enum(["omit", "ResourceNotFound"]).default("omit"),
  /** Lifetime of temporary credentials handed out by the metadata service. */
  tempCredentialTtlSec: z.int().min(1).default(7200),
});
export type Settings = z.output<typeof Settings>;

const Tags = z.record(z.string(), z.string()).default({});

export const EmulatorConfig = z.strictObject({
  seed: z.int().default(1),
  region: z
    .string()
    .regex(/^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)?$/, { error: "a region such as ap-guangzhou" })
    .default("ap-guangzhou"),
  vpcs: z.array(z.strictObject({ vpcId: resourceId("vpc"), cidrBlock: z.string() })).optional(),
  subnets: z
    .array(
      z.strictObject({
        subnetId: resourceId("subnet"),
        vpcId: resourceId("vpc"),
        cidrBlock: z.string(),
        zone: z.string(),
        name: z.string().default(""),
        tags: Tags,
      }),
    )
    .optional(),
  securityGroups: z.array(resourceId("sg")).optional(),
  instanceTypes: z
    .record(z.string(), z.strictObject({ eniQuota: z.int().min(1), ipsPerEni: z.int().min(1) }))
    .optional(),
  instances: z
    .array(
      z.strictObject({
        instanceId: resourceId("ins"),
        instanceType: z.string(),
        zone: z.string(),
        subnetId: resourceId("subnet"),
        role: z.string().default("vpccni-node"),
      }),
    )
    .optional(),
  /** Instances of the default type when `instances` is not given (overridden by --instances). */
  instanceCount: z.int().min(0).max(1000).default(2),
  credentials: z
    .array(
      z.strictObject({
        secretId: z.string().min(1),
        secretKey: z.string().min(1),
        token: z.string().optional(),
        expiresAt: z.int().optional(),
        actions: z.array(z.string()).optional(),
      }),
    )
    .optional(),
  settings: Settings.default(Settings.parse({})),
  faults: Faults.default({}),
});

export type EmulatorConfigInput = z.input<typeof EmulatorConfig>;
export type EmulatorConfig = z.output<typeof EmulatorConfig>;

/** The rate an action is held to: its qps fault, else its setting, else the documented default. */
export function rateLimitOf(settings: Settings, fault: ActionFault | undefined, action: string): number | undefined {
  const rate = fault?.qps ?? settings.rateLimits?.[action as Action] ?? DEFAULT_RATE_LIMITS[action as Action];
  return rate === undefined || rate <= 0 ? undefined : rate;
}

/** Validates a configuration, naming the field, the value and what is allowed on failure. */
export function parseConfig(input: unknown, source = "config"): EmulatorConfig {
  const result = EmulatorConfig.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${source}: ${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new Error(`invalid emulator configuration:\n${lines.join("\n")}`);
}

export function loadConfigFile(path: string): EmulatorConfig {
  const text = readFileSync(path, "utf8");
  return parseConfig(path.endsWith(".json") ? JSON.parse(text) : parseYaml(text), path);
}
