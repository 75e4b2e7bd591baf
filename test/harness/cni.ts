// Driving CNI in the test bed: the reference plugins (Debian containernetworking-plugins)
// through cnitool, or a plugin executed directly the way a runtime does (CNI_* env + stdin).
// Both run inside the node namespace, so host-side devices land there, not on the host.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { paths } from "./paths.ts";
import { onProcessExit } from "./process.ts";
import { ensureJanitor, tempPrefix } from "./janitor.ts";
import type { NodeNs, PodNs, TestBed } from "./netns.ts";
import type { RunResult } from "./exec.ts";

export interface CniDirs {
  /** NETCONFPATH for cnitool: the conflists live here. */
  netconf: string;
  /** host-local's dataDir, so allocations never go to /var/lib/cni/networks. */
  ipamData: string;
  root: string;
  remove(): void;
}

export function makeCniDirs(): CniDirs {
  ensureJanitor();
  const root = mkdtempSync(join(tmpdir(), tempPrefix("cni")));
  const remove = () => rmSync(root, { recursive: true, force: true });
  onProcessExit(remove);
  return { netconf: join(root, "net.d"), ipamData: join(root, "ipam"), root, remove };
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

/**
 * `cnitool CMD NET POD` inside the node namespace. cnitool (libcni v1.3.0) keeps its
 * result cache in /var/lib/cni/results (no env or flag moves it); entries are keyed by a
 * hash of the pod's netns path, unique per test bed, and removed again by DEL.
 */
export function cnitool(bed: TestBed, node: NodeNs, cmd: CniCommand, net: string, pod: PodNs, dirs: CniDirs, ifname = "eth0"): Promise<RunResult> {
  return bed.exec(node.ns, ["env", `NETCONFPATH=${dirs.netconf}`, `CNI_PATH=${paths.cniPluginDir}`, `CNI_IFNAME=${ifname}`, paths.cnitool, cmd, net, pod.path]);
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
