// Driving CNI in the test bed: the reference plugins (Debian containernetworking-plugins)
// through cnitool, or a plugin executed directly the way a runtime does (CNI_* env + stdin).
// Both run inside the node namespace, so host-side devices land there, not on the host.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { paths } from "./paths.ts";
import { onProcessExit } from "./process.ts";
import { makeTempDir } from "./janitor.ts";
import type { NodeNs, PodNs, TestBed } from "./test-bed.ts";
import { run, type RunResult } from "./exec.ts";

export interface CniDirs {
  /** NETCONFPATH for cnitool: the conflists live here. */
  netconf: string;
  /** host-local's dataDir, so allocations never go to /var/lib/cni/networks. */
  ipamData: string;
  /** Mounted over /var/lib/cni for cnitool calls with isolateCache (its result cache). */
  cache: string;
  root: string;
  remove(): void;
}

export function makeCniDirs(): CniDirs {
  const root = makeTempDir("cni");
  const remove = () => rmSync(root, { recursive: true, force: true });
  onProcessExit(remove);
  const cache = join(root, "cache");
  mkdirSync(cache);
  return { netconf: join(root, "net.d"), ipamData: join(root, "ipam"), cache, root, remove };
}

/** A ptp + host-local conflist for one node: pods get addresses of `podSubnet`. */
export function ptpConflist(name: string, podSubnet: string, ipamDataDir: string): Record<string, unknown> {
  return {
    cniVersion: "1.0.0",
    name,
    plugins: [
      {
        type: "ptp",
        // no masquerade: it would need iptables, and the test bed routes pod addresses anyway
        ipMasq: false,
        ipam: {
          type: "host-local",
          dataDir: ipamDataDir,
          ranges: [[{ subnet: podSubnet }]],
          routes: [{ dst: "0.0.0.0/0" }],
        },
      },
    ],
  };
}

export function writeConflist(dirs: CniDirs, conflist: Record<string, unknown>): string {
  const file = join(dirs.netconf, `${String(conflist.name)}.conflist`);
  Bun.spawnSync(["mkdir", "-p", dirs.netconf]);
  writeFileSync(file, JSON.stringify(conflist, null, 2));
  return file;
}

export type CniCommand = "add" | "check" | "del" | "gc" | "status";

export interface CnitoolOptions {
  ifname?: string;
  /**
   * Give cnitool dirs.cache as /var/lib/cni (a bind mount in a private mount namespace of
   * this call only). Default true. libcni v1.3.0 reads its cache directory only from
   * RuntimeConf.CacheDir, which cnitool never sets, and no environment variable moves it.
   */
  isolateCache?: boolean;
}

// The mount point must exist: a fresh tmpfs on /var/lib (this call's mount namespace only)
// holds it, so not even an empty /var/lib/cni is made on the host
const BIND_CACHE = `mount -t tmpfs -o mode=0755,size=1m vpccni-cnitool /var/lib && mkdir /var/lib/cni && mount --bind "$0" /var/lib/cni && exec "$@"`;

/**
 * Runs `cmd` (cnitool with its environment) inside a namespace of the bed, with `cache` as
 * libcni's /var/lib/cni: a bind mount in a private mount namespace of this call only, so no
 * result file reaches the host's /var/lib/cni.
 */
export function inNodeWithCniCache(bed: TestBed, ns: string, cache: string, cmd: string[]): Promise<RunResult> {
  bed.assertOwned(ns);
  return run([
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    BIND_CACHE,
    cache,
    "ip",
    "netns",
    "exec",
    ns,
    ...cmd,
  ]);
}

/** `cnitool CMD NET POD` inside the node namespace. */
export function cnitool(
  bed: TestBed,
  node: NodeNs,
  cmd: CniCommand,
  net: string,
  pod: PodNs,
  dirs: CniDirs,
  opts: CnitoolOptions = {},
): Promise<RunResult> {
  const tool = [
    "env",
    `NETCONFPATH=${dirs.netconf}`,
    `CNI_PATH=${paths.cniPluginDir}`,
    `CNI_IFNAME=${opts.ifname ?? "eth0"}`,
    paths.cnitool,
    cmd,
    net,
    pod.path,
  ];
  if (opts.isolateCache === false) return bed.exec(node.ns, tool);
  return inNodeWithCniCache(bed, node.ns, dirs.cache, tool);
}

/**
 * Executes one plugin the way a container runtime does: CNI_* in the environment, the
 * network config (a single plugin's, with name and cniVersion) on stdin.
 */
export function execPlugin(
  bed: TestBed,
  node: NodeNs,
  plugin: string,
  command: "ADD" | "CHECK" | "DEL" | "VERSION",
  netconf: Record<string, unknown>,
  pod: PodNs,
  containerId: string,
  ifname = "eth0",
): Promise<RunResult> {
  return bed.exec(node.ns, [join(paths.cniPluginDir, plugin)], {
    input: JSON.stringify(netconf),
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: pod.path,
      CNI_IFNAME: ifname,
      CNI_PATH: paths.cniPluginDir,
    },
  });
}
