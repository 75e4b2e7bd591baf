// Where data-plane commands run. The agent passes nothing (its own namespace); tests pass
// a node namespace of the test bed, so nothing ever touches the host's network.
import { readFileSync, writeFileSync } from "node:fs";
import { execOk } from "./exec.ts";

/** undefined: this process's namespace; a name: /var/run/netns/<name>; a path: that file. */
export type NetnsTarget = string | undefined;

const NAME = /^[A-Za-z0-9_.-]{1,200}$/;

export function assertTarget(target: NetnsTarget): void {
  if (target === undefined || target.startsWith("/")) return;
  if (!NAME.test(target)) throw new Error(`netns '${target}' must be an absolute path or a name matching ${NAME}`);
}

/**
 * The `ip` command line for a target. A path (every pod's CNI_NETNS) is entered with
 * `nsenter --net`, which only calls setns: `ip -n NAME` also unshares a mount namespace and
 * remounts /sys, which containerd's default AppArmor profile denies the agent (and which
 * the agent does not need: netlink shows the namespace it is in). A name is a test bed's
 * node namespace (`--netns`), where `ip -n` saves an exec.
 */
export function ipPrefix(target: NetnsTarget): string[] {
  assertTarget(target);
  if (target === undefined) return ["ip"];
  if (target.startsWith("/")) return ["nsenter", `--net=${target}`, "ip"];
  return ["ip", "-n", target];
}

/** The namespace file of a target; undefined for this process's own. */
export function netnsPath(target: NetnsTarget): string | undefined {
  assertTarget(target);
  if (target === undefined || target.startsWith("/")) return target;
  return `/var/run/netns/${target}`;
}

/** Runs another command inside the target namespace. */
export function inNetns(target: NetnsTarget, cmd: string[]): string[] {
  const path = netnsPath(target);
  return path === undefined ? cmd : ["nsenter", `--net=${path}`, ...cmd];
}

/** `net.ipv4.conf.eth1.rp_filter` -> `<netDir>/ipv4/conf/eth1/rp_filter`. */
function procPath(key: string, netDir = "/proc/sys/net"): string {
  if (!/^net\.[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`sysctl key '${key}' must be a net.* key`);
  return `${netDir}/${key.slice("net.".length).replaceAll(".", "/")}`;
}

/**
 * Where this process's own net sysctls are written. In a non-privileged container /proc/sys is
 * read-only, so the DaemonSet mounts the node's /proc/sys/net writable elsewhere and names it
 * in VPCCNI_SYSCTL_NET_DIR (compiler/contract.ts). The files show the namespace of the process
 * that opens them: the agent runs in the node's (hostNetwork), so they are the node's.
 */
export function ownNetDir(env: Record<string, string | undefined> = process.env): string {
  return env.VPCCNI_SYSCTL_NET_DIR || "/proc/sys/net";
}

/**
 * Reads sysctls of the target namespace. /proc/sys/net shows the namespace of the process
 * that opens it, so another namespace needs one process inside it (one for all keys).
 * A key that does not exist (link gone) reads as undefined.
 */
export async function readSysctls(target: NetnsTarget, keys: string[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  if (keys.length === 0) return out;
  if (target === undefined) {
    for (const k of keys) {
      try {
        out.set(k, readFileSync(procPath(k, ownNetDir()), "utf8").trim());
      } catch {
        out.set(k, undefined);
      }
    }
    return out;
  }
  const paths = keys.map((k) => procPath(k));
  // prints path:value per readable file and skips missing ones (a link that is gone)
  const text = await execOk(
    inNetns(target, [
      "sh",
      "-c",
      'for f in "$@"; do [ -r "$f" ] && printf "%s:%s\\n" "$f" "$(cat "$f")"; done; true',
      "sh",
      ...paths,
    ]),
  );
  const byPath = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) byPath.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  keys.forEach((k, i) => out.set(k, byPath.get(paths[i]!)));
  return out;
}

/** Writes sysctls of the target namespace (one process for all of them). */
export async function writeSysctls(target: NetnsTarget, values: Map<string, string>): Promise<void> {
  if (values.size === 0) return;
  if (target === undefined) {
    for (const [k, v] of values) writeFileSync(procPath(k, ownNetDir()), v);
    return;
  }
  // sh and /proc, not sysctl(8): procps is not on every minimal node or test machine.
  const args = [...values].flatMap(([k, v]) => {
    if (!/^[0-9]+$/.test(v)) throw new Error(`sysctl ${k} value '${v}' must be a number`);
    return [procPath(k), v];
  });
  await execOk(
    inNetns(target, [
      "sh",
      "-c",
      'while [ $# -gt 0 ]; do printf "%s" "$2" > "$1" || exit 1; shift 2; done',
      "sh",
      ...args,
    ]),
  );
}
