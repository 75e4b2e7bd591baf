// Parsing one CNI call: the network configuration on stdin and the CNI_* environment.
// Every failure is a CniError with the spec's code, naming the bad value.
import * as z from "zod/mini";
import { CNI_VERSIONS, POD_ANNOTATIONS_CAPABILITY } from "../../schema/cni.ts";
import { CniCode, CniError, DEFAULT_SOCKET } from "./protocol.ts";

export const SUPPORTED_VERSIONS = CNI_VERSIONS;
/** Netconf + prevResult + GC's attachment list stay far below this; more is an attack or a bug. */
export const MAX_STDIN_BYTES = 1 << 20;

const NetConf = z.looseObject({
  cniVersion: z.string(),
  name: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/)),
  type: z.string(),
  /** Agent socket (default /run/vpccni/cni.sock). */
  socket: z.optional(z.string().check(z.regex(/^\/\S+$/))),
  /** Per-call timeout towards the agent, ms (default: the agent's ADD timeout + a margin; STATUS 2000). */
  timeoutMs: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(120_000))),
  prevResult: z.optional(z.looseObject({})),
  /**
   * Mixed mode: pods that did not opt in go to this CNI configuration (the node's previous one,
   * kept at install). `cacheDir` holds the records of delegated attachments (default
   * /var/lib/cni/vpccni).
   */
  delegate: z.optional(
    z.object({
      conflist: z.string().check(z.regex(/^\/\S+$/)),
      cacheDir: z.optional(z.string().check(z.regex(/^\/\S+$/))),
    }),
  ),
  /** Filled by the runtime for the capabilities the conflist declares; passed on to the delegate. */
  runtimeConfig: z.optional(z.looseObject({})),
  "cni.dev/valid-attachments": z.optional(z.array(z.looseObject({ containerID: z.string(), ifname: z.string() }))),
});
export type NetConf = z.infer<typeof NetConf>;

/**
 * Configurations parsed already, by their text: a runtime hands the same one to every pod of a
 * network, and a burst of 100 ADDs validated it 100 times on the agent's only thread. Only
 * small ones that parsed, at most PARSED_MAX, each frozen so that no call can change another's.
 */
const parsed = new Map<string, NetConf>();
const PARSED_MAX = 16;
const PARSED_MAX_BYTES = 16 * 1024;

export function parseNetConf(stdin: string): NetConf {
  const known = parsed.get(stdin);
  if (known !== undefined) return known;
  const conf = parseNew(stdin);
  if (stdin.length <= PARSED_MAX_BYTES) {
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value as string);
    parsed.set(stdin, deepFreeze(conf));
  }
  return conf;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function parseNew(stdin: string): NetConf {
  if (Buffer.byteLength(stdin) > MAX_STDIN_BYTES) {
    throw new CniError(CniCode.InvalidConfig, `network configuration on stdin is larger than ${MAX_STDIN_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(CniCode.DecodeFailure, `network configuration on stdin is not JSON: ${(err as Error).message}`);
  }
  const r = NetConf.safeParse(json);
  if (!r.success) throw new CniError(CniCode.InvalidConfig, "invalid network configuration", z.prettifyError(r.error));
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(r.data.cniVersion)) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `cniVersion '${r.data.cniVersion}' is not supported; supported: ${SUPPORTED_VERSIONS.join(", ")}`,
    );
  }
  return r.data;
}

export function socketOf(conf: NetConf): string {
  return conf.socket ?? DEFAULT_SOCKET;
}

export interface CniEnv {
  command: string;
  containerId?: string;
  netns?: string;
  ifname?: string;
  args?: string;
  /** CNI_PATH: where delegated plugins are found. */
  path?: string;
}

export function readEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env.CNI_COMMAND;
  if (!command) throw new CniError(CniCode.InvalidEnvironment, "CNI_COMMAND is not set");
  return {
    command,
    containerId: env.CNI_CONTAINERID || undefined,
    netns: env.CNI_NETNS || undefined,
    ifname: env.CNI_IFNAME || undefined,
    args: env.CNI_ARGS || undefined,
    path: env.CNI_PATH || undefined,
  };
}

/** The variable or a spec error 4 naming it. */
export function need(value: string | undefined, name: string, pattern?: RegExp): string {
  if (!value) throw new CniError(CniCode.InvalidEnvironment, `${name} is not set`);
  if (pattern && !pattern.test(value))
    throw new CniError(CniCode.InvalidEnvironment, `${name} '${value.slice(0, 200)}' must match ${pattern}`);
  return value;
}

/** CNI_ARGS: `K=V;K=V` (IgnoreUnknown, K8S_POD_NAMESPACE, K8S_POD_NAME, ...). */
export function parseCniArgs(args: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (args ?? "").split(";")) {
    if (!pair) continue;
    const i = pair.indexOf("=");
    if (i <= 0)
      throw new CniError(CniCode.InvalidEnvironment, `CNI_ARGS item '${pair.slice(0, 100)}' must be KEY=VALUE`);
    out.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return out;
}

/**
 * The pod's annotations from runtimeConfig (containerd's CRI passes them for the capability
 * io.kubernetes.cri.pod-annotations, which the mixed conflist declares): {} for a pod without
 * any (containerd sends null then), undefined when the runtime passed none at all.
 */
export function podAnnotationsOf(conf: NetConf): Record<string, string> | undefined {
  const rc = conf.runtimeConfig;
  if (!rc || !(POD_ANNOTATIONS_CAPABILITY in rc)) return undefined;
  const value = rc[POD_ANNOTATIONS_CAPABILITY];
  if (value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new CniError(
      CniCode.InvalidConfig,
      `runtimeConfig["${POD_ANNOTATIONS_CAPABILITY}"] is ${JSON.stringify(value).slice(0, 100)}; allowed: an object of annotation names to strings, or null`,
    );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string")
      throw new CniError(
        CniCode.InvalidConfig,
        `runtimeConfig["${POD_ANNOTATIONS_CAPABILITY}"]["${k.slice(0, 100)}"] is ${JSON.stringify(v).slice(0, 100)}; allowed: a string`,
      );
    out[k] = v;
  }
  return out;
}
