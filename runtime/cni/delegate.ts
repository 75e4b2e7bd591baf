// Mixed mode: the node's previous CNI configuration (the "delegate", kept at install time) run
// by the plugin for every pod that did not opt in, the way its runtime would run it (libcni's
// rules for a configuration list), with its output and exit status passed through unchanged.
// Which attachments went to the delegate is recorded at ADD in a small file of the plugin's
// cache, so that their DEL and CHECK go the same way even once the pod is gone from the API.
// The files and the runs are the node's (HostOps): the agent decides, the exec shim does them.
import { join } from "node:path";
import type { HostOps, PluginExec, PluginRun } from "./host.ts";
import { CniCode, CniError } from "./protocol.ts";

export type { PluginExec, PluginRun };

/** Where the records live unless the netconf's `delegate.cacheDir` says otherwise. */
export const DEFAULT_DELEGATE_CACHE_DIR = "/var/lib/cni/vpccni";
/** Stamped into every record; a record of another version is refused, naming both. */
export const DELEGATE_RECORD_VERSION = "vpccni-delegate/1";

/** A configuration list as libcni reads it (a single-plugin .conf is turned into one). */
export interface DelegateList {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
  disableCheck?: boolean;
  disableGC?: boolean;
}

/** One delegated attachment: the configuration its ADD used, and that ADD's result. */
export interface DelegateRecord {
  version: typeof DELEGATE_RECORD_VERSION;
  conflist: DelegateList;
  result?: unknown;
}

export type ChainCommand = "ADD" | "DEL" | "CHECK" | "GC" | "STATUS";

export interface ChainContext {
  /** The call's CNI_* variables: every delegated plugin gets them (over the runtime's environment), CNI_COMMAND set. */
  env: Record<string, string | undefined>;
  host: HostOps;
  timeoutMs: number;
  /** The runtime's runtimeConfig, handed to each plugin for the capabilities it declares. */
  runtimeConfig?: Record<string, unknown>;
  /** DEL and CHECK: the ADD's result. */
  prevResult?: unknown;
  /** GC: the runtime's list of attachments still in use. */
  validAttachments?: unknown[];
}

/** Reads the kept configuration: a .conflist, or a single plugin's .conf turned into a list. */
export async function loadDelegateList(host: HostOps, path: string): Promise<DelegateList> {
  let text: string | null;
  try {
    text = await host.read(path);
    if (text === null) throw new Error("no such file");
  } catch (error) {
    throw new CniError(
      CniCode.InvalidConfig,
      `delegate configuration ${path} cannot be read: ${(error as Error).message}; mixed mode needs the node's previous CNI configuration there (docs/cni.md)`,
    );
  }
  return parseDelegateList(text, path);
}

export function parseDelegateList(text: string, where: string): DelegateList {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new CniError(
      CniCode.InvalidConfig,
      `delegate configuration ${where} is not JSON: ${(error as Error).message}`,
    );
  }
  const bad = (what: string) =>
    new CniError(CniCode.InvalidConfig, `delegate configuration ${where}: ${what}; allowed: a CNI .conflist or .conf`);
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw bad("not a JSON object");
  const { cniVersion, name } = json;
  if (typeof cniVersion !== "string" || !/^\d+\.\d+\.\d+$/.test(cniVersion))
    throw bad(`cniVersion is ${JSON.stringify(cniVersion)}`);
  if (typeof name !== "string" || name === "") throw bad(`name is ${JSON.stringify(name)}`);
  if (Array.isArray(json.plugins)) {
    const plugins = json.plugins as unknown[];
    if (plugins.length === 0) throw bad("plugins is empty");
    for (const [i, p] of plugins.entries())
      if (p === null || typeof p !== "object" || typeof (p as { type?: unknown }).type !== "string")
        throw bad(`plugins[${i}] has no type`);
    return {
      cniVersion,
      name,
      plugins: plugins as Record<string, unknown>[],
      ...(json.disableCheck === true ? { disableCheck: true } : {}),
      ...(json.disableGC === true ? { disableGC: true } : {}),
    };
  }
  if (typeof json.type !== "string") throw bad("neither plugins nor type");
  const { cniVersion: _v, name: _n, ...plugin } = json;
  return { cniVersion, name, plugins: [plugin] };
}

/** a >= b for x.y.z versions. */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) > (pb[i] ?? 0);
  return true;
}

/** The plugin binary `type` in CNI_PATH (colon-separated), as libcni finds it. */
export async function findPlugin(host: HostOps, type: string, cniPath: string | undefined): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(type))
    throw new CniError(CniCode.InvalidConfig, `delegate plugin type ${JSON.stringify(type)} is not a plugin name`);
  const dirs = (cniPath ?? "").split(":").filter(Boolean);
  if (dirs.length === 0) throw new CniError(CniCode.InvalidEnvironment, "CNI_PATH is not set");
  for (const dir of dirs) {
    const path = join(dir, type);
    if (await host.executable(path)) return path;
  }
  throw new CniError(CniCode.InvalidConfig, `delegate plugin ${type} is not in CNI_PATH (${dirs.join(", ")})`);
}

/**
 * Runs the list for one command. ADD: plugins in order, each given the previous one's result;
 * DEL: in reverse order, CHECK: in order, each given the ADD's result; GC and STATUS only from
 * cniVersion 1.1.0 on. The first plugin that fails ends the run, and its output is the answer;
 * otherwise the last plugin's output is (ADD: the result, unchanged).
 */
export async function runChain(command: ChainCommand, list: DelegateList, ctx: ChainContext): Promise<PluginRun> {
  const done: PluginRun = { stdout: "", exitCode: 0 };
  if (command === "CHECK" && (list.disableCheck || !versionAtLeast(list.cniVersion, "0.4.0"))) return done;
  if ((command === "GC" || command === "STATUS") && !versionAtLeast(list.cniVersion, "1.1.0")) return done;
  if (command === "GC" && list.disableGC) return done;
  const plugins = command === "DEL" ? [...list.plugins].reverse() : list.plugins;
  // Found before any runs, so that a missing one fails the call before anything is half done.
  const binaries: string[] = [];
  for (const p of plugins) binaries.push(await findPlugin(ctx.host, String(p.type), ctx.env.CNI_PATH));
  let prev = ctx.prevResult;
  let last = done;
  for (const [i, plugin] of plugins.entries()) {
    const netconf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
    const rc = runtimeConfigFor(plugin, ctx.runtimeConfig);
    if (rc) netconf.runtimeConfig = rc;
    else delete netconf.runtimeConfig;
    if (prev !== undefined && (command === "ADD" || command === "DEL" || command === "CHECK"))
      netconf.prevResult = prev;
    if (command === "GC") netconf["cni.dev/valid-attachments"] = ctx.validAttachments ?? [];
    const binary = binaries[i]!;
    const run = await ctx.host.exec(
      binary,
      { ...ctx.env, CNI_COMMAND: command },
      JSON.stringify(netconf),
      ctx.timeoutMs,
    );
    if (run.exitCode === null)
      throw new CniError(
        CniCode.TryAgainLater,
        `delegate plugin ${binary} (${command}) did not finish within ${ctx.timeoutMs} ms and was stopped`,
      );
    if (run.exitCode !== 0) return run;
    last = run;
    if (command === "ADD") {
      try {
        prev = JSON.parse(run.stdout);
      } catch {
        throw new CniError(CniCode.DecodeFailure, `delegate plugin ${binary} printed a result that is not JSON`);
      }
    }
  }
  return last;
}

/** libcni: a plugin gets the runtimeConfig keys of the capabilities it declares true. */
function runtimeConfigFor(
  plugin: Record<string, unknown>,
  runtimeConfig: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const caps = plugin.capabilities as Record<string, unknown> | undefined;
  if (!caps || !runtimeConfig) return undefined;
  const out: Record<string, unknown> = {};
  for (const [cap, on] of Object.entries(caps)) if (on === true && cap in runtimeConfig) out[cap] = runtimeConfig[cap];
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The records of delegated attachments, one file each: `<cacheDir>/delegated/<network>/<containerId>@<ifname>`
 * ('@' and '/' occur in none of the three names).
 */
export class DelegateRecords {
  readonly dir: string;

  constructor(
    private readonly host: HostOps,
    cacheDir: string,
  ) {
    this.dir = join(cacheDir, "delegated");
  }

  path(a: Attachment): string {
    return join(this.dir, a.network, `${a.containerId}@${a.ifname}`);
  }

  /** The record, or null when the attachment did not go to the delegate (or never came). */
  async read(a: Attachment): Promise<DelegateRecord | null> {
    const path = this.path(a);
    let text: string | null;
    try {
      text = await this.host.read(path);
    } catch (error) {
      throw new CniError(CniCode.IoFailure, `delegate record ${path} cannot be read: ${(error as Error).message}`);
    }
    if (text === null) return null;
    let record: DelegateRecord;
    try {
      record = JSON.parse(text) as DelegateRecord;
    } catch {
      throw new CniError(CniCode.IoFailure, `delegate record ${path} is not JSON`);
    }
    if (record.version !== DELEGATE_RECORD_VERSION)
      throw new CniError(
        CniCode.IoFailure,
        `delegate record ${path} has version ${JSON.stringify(record.version)}; this plugin reads ${DELEGATE_RECORD_VERSION}`,
      );
    return { ...record, conflist: parseDelegateList(JSON.stringify(record.conflist), path) };
  }

  /** Written whole (a temporary file renamed into place), 0600 in 0700 folders. */
  async write(a: Attachment, record: DelegateRecord): Promise<void> {
    const path = this.path(a);
    try {
      await this.host.write(path, JSON.stringify(record));
    } catch (error) {
      throw new CniError(CniCode.IoFailure, `delegate record ${path} cannot be written: ${(error as Error).message}`);
    }
  }

  async remove(a: Attachment): Promise<void> {
    await this.host.remove(this.path(a));
  }

  /** The attachments of `network` that have a record. */
  async list(network: string): Promise<{ containerId: string; ifname: string }[]> {
    const names = await this.host.list(join(this.dir, network));
    return names
      .filter((n) => !n.endsWith(".tmp") && n.includes("@"))
      .map((n) => ({ containerId: n.slice(0, n.lastIndexOf("@")), ifname: n.slice(n.lastIndexOf("@") + 1) }));
  }
}

export interface Attachment {
  network: string;
  containerId: string;
  ifname: string;
}
