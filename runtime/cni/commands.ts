// One CNI call from parsed input to printed output. The entry point (main.ts) only reads
// stdin and the environment and hands them here with the agent transport injected.
import { pluginTimeoutMs } from "../../schema/cni.ts";
import {
  type CniEnv,
  need,
  parseCniArgs,
  parseNetConf,
  podAnnotationsOf,
  readEnv,
  socketOf,
  SUPPORTED_VERSIONS,
  type NetConf,
} from "./config.ts";
import type { HostOps } from "./host.ts";
import { type CniOutput, Delegation } from "./mixed.ts";
import { CniCode, CniError, IFNAME, type Op, type RequestOf, type ResponseOf } from "./protocol.ts";
import { addResult, ipFromPrevResult } from "./result.ts";

/** One call to the agent's CNI API (in the agent: in process, see calls.ts). */
export type AgentCall = <O extends Op>(op: O, body: RequestOf<O>) => Promise<ResponseOf<O>>;

export interface AgentCallOptions {
  socket: string;
  timeoutMs: number;
}

export interface CniDeps {
  agent(opts: AgentCallOptions): AgentCall;
  /** Does the netns path exist? (stat; wiring enters it later). */
  exists(path: string): boolean;
  /** Mixed mode's records, kept configuration and delegated runs: where the runtime ran the plugin. */
  host: HostOps;
}

export type { CniOutput };

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const NETNS = /^\/\S{1,4000}$/;
// Longer than the agent's own ADD timeout, so its "try again later" answer always arrives.
const DEFAULT_TIMEOUT_MS = pluginTimeoutMs();
const STATUS_TIMEOUT_MS = 2_000;

export async function runCni(
  envVars: Record<string, string | undefined>,
  stdin: string,
  deps: CniDeps,
): Promise<CniOutput> {
  let version = "1.1.0";
  try {
    const env = readEnv(envVars);
    if (env.command === "VERSION") return ok({ cniVersion: "1.1.0", supportedVersions: [...SUPPORTED_VERSIONS] });
    const conf = parseNetConf(stdin);
    version = conf.cniVersion;
    return await dispatch(env.command, env, envVars, conf, deps);
  } catch (err) {
    const e = err instanceof CniError ? err : new CniError(CniCode.AgentFailure, (err as Error).message);
    const out: Record<string, unknown> = { cniVersion: version, code: e.code, msg: e.message };
    if (e.details) out.details = e.details;
    return { stdout: JSON.stringify(out), exitCode: 1 };
  }
}

/** DEL, CHECK, GC and STATUS succeed with no output at all (the spec's empty result). */
function ok(v: unknown): CniOutput {
  return { stdout: v === undefined ? "" : JSON.stringify(v), exitCode: 0 };
}

async function dispatch(
  command: string,
  env: CniEnv,
  envVars: Record<string, string | undefined>,
  conf: NetConf,
  deps: CniDeps,
): Promise<CniOutput> {
  const timeoutMs = conf.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const agent = (ms = timeoutMs) => deps.agent({ socket: socketOf(conf), timeoutMs: ms });
  // Mixed mode (docs/cni.md): the pods that did not opt in go to the node's previous configuration.
  const delegation = new Delegation(conf, envVars, deps.host, timeoutMs);
  const key = () => ({
    network: conf.name,
    containerId: need(env.containerId, "CNI_CONTAINERID", ID),
    ifname: need(env.ifname, "CNI_IFNAME", IFNAME),
  });
  const netns = () => {
    const path = need(env.netns, "CNI_NETNS", NETNS);
    if (!deps.exists(path)) throw new CniError(CniCode.UnknownContainer, `CNI_NETNS '${path}' does not exist`);
    return path;
  };
  const owner = async (k: ReturnType<typeof key>, pod: { podNamespace?: string; podName?: string }) => {
    const podAnnotations = podAnnotationsOf(conf);
    return (await agent()("owner", { ...k, ...pod, ...(podAnnotations ? { podAnnotations } : {}) })).owner;
  };
  switch (command) {
    case "ADD": {
      const k = key();
      const ns = netns();
      const args = parseCniArgs(env.args);
      const pod = { podNamespace: args.get("K8S_POD_NAMESPACE"), podName: args.get("K8S_POD_NAME") };
      // An attachment goes the way it went before (a repeated ADD), else the way the agent says,
      // which decides from the pod's annotations as the runtime passed them.
      if (delegation.enabled) {
        const record = await delegation.records.read(k);
        if (record !== null || (await owner(k, pod)) === "delegate") return delegation.add(k, record);
      }
      const uid = args.get("K8S_POD_UID");
      const a = await agent()("add", { ...k, netns: ns, ...pod, ...(uid ? { podUid: uid } : {}) });
      return ok(addResult(conf.cniVersion, k.ifname, ns, a, conf.prevResult));
    }
    case "DEL": {
      // no netns check: DEL must succeed when the sandbox is already gone
      const k = key();
      // A record says the ADD went to the delegate; it is read in either mode, so that pods
      // delegated before a switch back to default mode still reach their configuration.
      const record = await delegation.records.read(k);
      if (record) return delegation.del(k, record);
      const { released } = await agent()("del", { ...k, netns: env.netns });
      // The agent held nothing for it: a pod of the previous CNI (wired before vpccni came) or
      // one whose ADD reached neither side. Both sides' DEL are idempotent.
      if (released === undefined && delegation.enabled) return delegation.del(k, null);
      return ok(undefined);
    }
    case "CHECK": {
      const k = key();
      const ns = netns();
      if (!conf.prevResult)
        throw new CniError(CniCode.InvalidConfig, "CHECK needs prevResult in the network configuration");
      const record = await delegation.records.read(k);
      if (record) return delegation.check(record);
      const ip = ipFromPrevResult(conf.prevResult, k.ifname, ns);
      if (!ip) throw new CniError(CniCode.CheckFailed, `prevResult has no IPv4 address for ${k.ifname} in ${ns}`);
      try {
        await agent()("check", { ...k, netns: ns, ip });
      } catch (error) {
        // The agent holds no IP for it (code 3): the previous CNI's, wired before vpccni came.
        if (delegation.enabled && error instanceof CniError && error.code === CniCode.UnknownContainer)
          return delegation.check(null);
        throw error;
      }
      return ok(undefined);
    }
    case "GC": {
      needs11(conf, "GC");
      const listed = conf["cni.dev/valid-attachments"] ?? [];
      const valid = listed.map((a) => ({ containerId: a.containerID, ifname: a.ifname }));
      await agent()("gc", { network: conf.name, validAttachments: valid });
      return (delegation.enabled ? await delegation.gc(conf.name, listed) : undefined) ?? ok(undefined);
    }
    case "STATUS": {
      needs11(conf, "STATUS");
      let s;
      try {
        s = await agent(conf.timeoutMs ?? STATUS_TIMEOUT_MS)("status", { network: conf.name });
      } catch (err) {
        throw new CniError(CniCode.NotAvailable, `node agent unavailable: ${(err as Error).message}`);
      }
      // Mixed mode: a pool that cannot serve the next VPC-CNI pod must not stop the node's
      // other pods (the runtime would refuse every pod); the delegate's own STATUS counts.
      if (delegation.enabled) return (await delegation.status()) ?? ok(undefined);
      if (!s.ready)
        throw new CniError(
          CniCode.NotAvailable,
          `node agent cannot assign an IP now: ${s.message ?? `${s.idleIps} idle IPs`}`,
        );
      return ok(undefined);
    }
    default:
      throw new CniError(
        CniCode.InvalidEnvironment,
        `CNI_COMMAND '${command.slice(0, 50)}' is not one of ADD, DEL, CHECK, GC, STATUS, VERSION`,
      );
  }
}

function needs11(conf: NetConf, what: string): void {
  if (conf.cniVersion !== "1.1.0")
    throw new CniError(
      CniCode.IncompatibleVersion,
      `${what} needs cniVersion 1.1.0, the configuration says ${conf.cniVersion}`,
    );
}
