// Helpers for driving the compiled vpccni binary in the test bed: build it once per run,
// write conflists, and run it the way cnitool / a runtime does, inside the node namespace.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runOk } from "../../sandbox/exec.ts";
import { inNodeWithCniCache } from "../../sandbox/cnitool.ts";
import { paths } from "../../sandbox/paths.ts";
import { onProcessExit } from "../../sandbox/process.ts";
import { requireBinary, requireCni, requirePrereq } from "../../sandbox/prereq.ts";
import type { NodeNs, PodNs, TestBed } from "../../sandbox/test-bed.ts";
import type { RunResult } from "../../sandbox/exec.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { buildCni } from "../../sandbox/cni-build.ts";

export { buildCni };

const ROOT = resolve(import.meta.dir, "../..");

/** Everything the data-plane and CNI suites run besides the harness's own prerequisites. */
export function requireDataPlaneTools(): void {
  requireCni();
  for (const tool of ["nsenter", "sysctl", "iptables-save", "curl"]) {
    requirePrereq(tool, () => Bun.which(tool) !== null || `\`${tool}\` is not on PATH`);
  }
  requireBinary("reference CNI plugin portmap", join(paths.cniPluginDir, "portmap"));
}
export interface CniRig {
  root: string;
  netconf: string;
  socket: string;
  binDir: string;
  remove(): void;
}

export async function makeRig(): Promise<CniRig> {
  const binDir = await buildCni();
  const root = mkdtempSync(join(tmpdir(), "vpccni-rig-"));
  const remove = () => rmSync(root, { recursive: true, force: true });
  onProcessExit(remove);
  mkdirSync(join(root, "net.d"));
  return { root, netconf: join(root, "net.d"), socket: join(root, "run", "cni.sock"), binDir, remove };
}

export function writeConf(rig: CniRig, name: string, plugins: Record<string, unknown>[], cniVersion = "1.1.0"): void {
  writeFileSync(join(rig.netconf, `${name}.conflist`), JSON.stringify({ cniVersion, name, plugins }));
}

export function vpccniPlugin(rig: CniRig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "vpccni", socket: rig.socket, ...extra };
}

/**
 * cnitool with our binary and the reference plugins on CNI_PATH, inside the node namespace.
 * Its result cache (libcni's /var/lib/cni) is the rig's own folder, bind-mounted in a private
 * mount namespace of this call: nothing is written to the host's /var/lib/cni.
 */
export function cnitool(
  bed: TestBed,
  node: NodeNs,
  rig: CniRig,
  cmd: string,
  net: string,
  netns: string,
  env: Record<string, string> = {},
): Promise<RunResult> {
  const cache = join(rig.root, "cache");
  mkdirSync(cache, { recursive: true });
  return inNodeWithCniCache(bed, node.ns, cache, [
    "env",
    `NETCONFPATH=${rig.netconf}`,
    `CNI_PATH=${rig.binDir}:${paths.cniPluginDir}`,
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    paths.cnitool,
    cmd,
    net,
    netns,
  ]);
}

/** The binary run directly, as a runtime would: stdin + the given CNI_* variables only. */
export function execCni(
  bed: TestBed,
  node: NodeNs,
  rig: CniRig,
  stdin: string,
  env: Record<string, string>,
): Promise<RunResult> {
  return bed.exec(
    node.ns,
    ["env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), join(rig.binDir, "vpccni")],
    { input: stdin },
  );
}

export function podEnv(command: string, pod: PodNs, containerId: string): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    CNI_NETNS: pod.path,
    CNI_IFNAME: "eth0",
    CNI_PATH: "/nonexistent",
  };
}
