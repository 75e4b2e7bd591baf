// Which attachments belong to pods that are gone, judged from the node alone: the netns path
// recorded at ADD no longer exists. Container runtimes remove a pod's netns when its sandbox
// goes (containerd: the bind mount /var/run/netns/cni-<id>; runtimes that use a process's own
// namespace: /proc/<pid>/ns/net, gone with the process). Pure: the shell (pod-gc.ts) looks at
// the file system and hands the answers in.

/** What the node shows of a recorded netns path. */
export type NetnsPresence =
  /** The path exists: the sandbox is there (or, for /proc/<pid>, a process of that pid). */
  | "present"
  /** The path is missing while where it lives is visible: the runtime removed it. */
  | "absent"
  /** Where it lives is not visible (a mount missing, no permission): no judgement. */
  | "unknown";

/**
 * What must be visible for a missing path to mean "removed": its folder (a netns mount point
 * folder such as /var/run/netns), or for /proc/<pid>/ns/net the agent's own /proc (a pid that
 * exited takes its whole /proc/<pid> folder with it). null: not an absolute path.
 */
export function netnsAnchor(path: string): string | null {
  if (!/^\/\S+$/.test(path) || path.split("/").includes("..")) return null;
  if (/^\/proc\/\d+\/ns\/net$/.test(path)) return "/proc/self/ns/net";
  const parent = path.slice(0, path.lastIndexOf("/"));
  return parent === "" ? null : parent;
}

export interface GoneInput {
  /** The attachments the agent holds: key, the netns recorded at ADD, when it was recorded. */
  attachments: readonly { key: string; netns: string; createdAt: number }[];
  /** What the node shows of each recorded netns path (missing: unknown). */
  presence: Readonly<Record<string, NetnsPresence>>;
  /** Attachments whose netns was already absent at an earlier pass: key -> first seen absent. */
  suspects: ReadonlyMap<string, number>;
  now: number;
  /**
   * 1. An attachment younger than this is never collected: an ADD in flight (its record is
   * written before the wiring, and the runtime may still be setting up) is never freed. At
   * least the plugin's own timeout towards the agent.
   */
  graceMs: number;
  /**
   * 2. The netns must be seen absent twice, at least this far apart: a single look (a runtime
   * restarting, a mount being replaced) never frees an IP.
   */
  confirmMs: number;
}

export interface GoneDecision {
  /** Keys to free now (unwire, IP back to the pool, record deleted). */
  free: string[];
  /** The suspects for the next pass. */
  suspects: Map<string, number>;
}

export function gonePods(input: GoneInput): GoneDecision {
  const free: string[] = [];
  const suspects = new Map<string, number>();
  for (const a of input.attachments) {
    // 1. too young: an ADD may be in flight
    if (input.now - a.createdAt < input.graceMs) continue;
    // 3. present, or not judged: the pod may be alive, and any earlier suspicion is void
    if ((input.presence[a.netns] ?? "unknown") !== "absent") continue;
    const since = input.suspects.get(a.key);
    // 2. first time absent: a suspect until the next pass confirms it
    if (since === undefined || input.now - since < input.confirmMs) {
      suspects.set(a.key, since ?? input.now);
      continue;
    }
    free.push(a.key);
  }
  return { free, suspects };
}
