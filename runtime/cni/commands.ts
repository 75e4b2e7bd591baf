// One CNI call from parsed input to printed output. The entry point (main.ts) only reads
// stdin and the environment and hands them here with the agent transport injected.
import { pluginTimeoutMs } from "../../schema/cni.ts";
import { need, parseCniArgs, parseNetConf, readEnv, socketOf, SUPPORTED_VERSIONS, type NetConf } from "./config.ts";
import type { AgentCall, AgentClientOptions } from "./client.ts";
import { CniCode, CniError } from "./protocol.ts";
import { addResult, ipFromPrevResult } from "./result.ts";

export interface CniDeps {
  agent(opts: AgentClientOptions): AgentCall;
  /** Does the netns path exist? (stat; the binary never enters it). */
  exists(path: string): boolean;
}

export interface CniOutput {
  stdout: string;
  exitCode: number;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
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
    return ok(await dispatch(env.command, env, conf, deps));
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
  env: ReturnType<typeof readEnv>,
  conf: NetConf,
  deps: CniDeps,
): Promise<unknown> {
  const agent = (timeoutMs = conf.timeoutMs ?? DEFAULT_TIMEOUT_MS) => deps.agent({ socket: socketOf(conf), timeoutMs });
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
  switch (command) {
    case "ADD": {
      const k = key();
      const ns = netns();
      const args = parseCniArgs(env.args);
      const a = await agent()("add", {
        ...k,
        netns: ns,
        podNamespace: args.get("K8S_POD_NAMESPACE"),
        podName: args.get("K8S_POD_NAME"),
      });
      return addResult(conf.cniVersion, k.ifname, ns, a, conf.prevResult);
    }
    case "DEL": {
      // no netns check: DEL must succeed when the sandbox is already gone
      const k = key();
      await agent()("del", { ...k, netns: env.netns });
      return undefined;
    }
    case "CHECK": {
      const k = key();
      const ns = netns();
      if (!conf.prevResult)
        throw new CniError(CniCode.InvalidConfig, "CHECK needs prevResult in the network configuration");
      const ip = ipFromPrevResult(conf.prevResult, k.ifname, ns);
      if (!ip) throw new CniError(CniCode.CheckFailed, `prevResult has no IPv4 address for ${k.ifname} in ${ns}`);
      await agent()("check", { ...k, netns: ns, ip });
      return undefined;
    }
    case "GC": {
      needs11(conf, "GC");
      const valid = (conf["cni.dev/valid-attachments"] ?? []).map((a) => ({
        containerId: a.containerID,
        ifname: a.ifname,
      }));
      await agent()("gc", { network: conf.name, validAttachments: valid });
      return undefined;
    }
    case "STATUS": {
      needs11(conf, "STATUS");
      let s;
      try {
        s = await agent(conf.timeoutMs ?? STATUS_TIMEOUT_MS)("status", { network: conf.name });
      } catch (err) {
        throw new CniError(CniCode.NotAvailable, `node agent unavailable: ${(err as Error).message}`);
      }
      if (!s.ready)
        throw new CniError(
          CniCode.NotAvailable,
          `node agent cannot assign an IP now: ${s.message ?? `${s.idleIps} idle IPs`}`,
        );
      return undefined;
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
