// Which network namespace paths the agent enters for a pod. A caller of the socket names the
// pod's namespace (CNI_NETNS), and the agent runs `ip` in it as root: a path that is the
// agent's own namespace (or the node's, in the test bed) would have it rewire the node. So an
// ADD or CHECK is served only for a file under the runtime's netns folders, or for
// /proc/<pid>/ns/net of another process than init and the agent, and never for a file that is
// the agent's or the node's namespace, however it is reached (compared by device and inode).
// DEL never enters the namespace, so its path is not checked (a refused DEL would leak an IP).
import { realpathSync, statSync } from "node:fs";
import { sep } from "node:path";
import { type CniAgentApi, CniCode, CniError } from "../cni/protocol.ts";

/** Where runtimes make pod netns: containerd's and CRI-O's default, as the DaemonSet mounts it. */
export const DEFAULT_NETNS_DIRS = ["/var/run/netns", "/run/netns"] as const;

export interface NetnsRule {
  /** Folders whose files may be pod namespaces (`--netns-dir`). */
  dirs: readonly string[];
  /** Namespace files no pod may be: the agent's own, and the node's when the agent acts in another. */
  forbidden: readonly string[];
  /** The agent's pid (/proc/<pid>/ns/net of it is refused as such). */
  pid: number;
}

/** The agent's rule: its own namespace, and the node namespace named by `--netns` if any. */
export function agentNetnsRule(dirs: readonly string[] | undefined, nodeNetns: string | undefined): NetnsRule {
  return {
    dirs: dirs && dirs.length > 0 ? dirs : DEFAULT_NETNS_DIRS,
    forbidden: ["/proc/self/ns/net", ...(nodeNetns ? [`/run/netns/${nodeNetns}`] : [])],
    pid: process.pid,
  };
}

const PROC_NETNS = /^\/proc\/(\d{1,10})\/ns\/net$/;

const real = (p: string): string | null => {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
};

/** Why `path` may not be a pod's namespace, or null when it may. */
export function netnsProblem(path: string, rule: NetnsRule): string | null {
  const proc = PROC_NETNS.exec(path);
  if (proc) {
    const pid = Number(proc[1]);
    if (pid <= 1 || pid === rule.pid)
      return `netns ${JSON.stringify(path)} is ${pid <= 1 ? "init's" : "the agent's"} namespace; allowed: /proc/<pid>/ns/net of a pod's process`;
  } else {
    const file = real(path);
    const dirs = rule.dirs.map(real).filter((d): d is string => d !== null);
    if (file === null) return `netns ${JSON.stringify(path)} does not exist`;
    if (!dirs.some((d) => file.startsWith(d.endsWith(sep) ? d : d + sep)))
      return `netns ${JSON.stringify(path)} is outside the runtime's netns folders; allowed: a file under ${rule.dirs.join(", ")} or /proc/<pid>/ns/net`;
  }
  let st: { dev: number; ino: number };
  try {
    st = statSync(path);
  } catch {
    return `netns ${JSON.stringify(path)} does not exist`;
  }
  // Every namespace file is on nsfs, one device: anything else is not a namespace at all.
  if (st.dev !== statSync("/proc/self/ns/net").dev)
    return `netns ${JSON.stringify(path)} is not a namespace file; allowed: a pod's network namespace`;
  for (const f of rule.forbidden) {
    let other: { dev: number; ino: number };
    try {
      other = statSync(f);
    } catch {
      continue;
    }
    if (other.dev === st.dev && other.ino === st.ino)
      return `netns ${JSON.stringify(path)} is the ${f === "/proc/self/ns/net" ? "agent's own" : "node's"} network namespace; allowed: a pod's`;
  }
  return null;
}

/** The API with ADD and CHECK refused (CNI code 4, an invalid CNI_NETNS) for a path the rule forbids. */
export function guardNetns(api: CniAgentApi, rule: NetnsRule): CniAgentApi {
  const check = (path: string) => {
    const problem = netnsProblem(path, rule);
    if (problem !== null) throw new CniError(CniCode.InvalidEnvironment, problem);
  };
  return {
    ...api,
    add: async (req) => {
      check(req.netns);
      return api.add(req);
    },
    check: async (req) => {
      check(req.netns);
      return api.check(req);
    },
  };
}
