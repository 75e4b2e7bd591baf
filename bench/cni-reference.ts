// Latency of the reference CNI plugins (Debian containernetworking-plugins: ptp with
// host-local IPAM) in the network test bed: the anchor that vpccni's own CNI benchmarks
// compare with. Each plugin call runs in the node namespace through `nsenter --net`
// (lighter than `ip netns exec`, which also remounts /sys); the cost of that wrapper alone
// is printed as a baseline. Prints figures only; never fails on time.
//
//   node_modules/.bin/bun bench/cni-reference.ts [iterations]     (root; default 30, max 500)
// Other benchmarks import referenceCniLatency() to print their figures as ratios to these.
import { join } from "node:path";
import { createTestBed, type NodeNs, type PodNs, type TestBed } from "../sandbox/test-bed.ts";
import { makeCniDirs, ptpConflist, writeConflist } from "../sandbox/cnitool.ts";
import { paths } from "../sandbox/paths.ts";
import { requireCni } from "../sandbox/prereq.ts";
import { runOk, type RunOptions } from "../sandbox/exec.ts";

async function timed(cmd: string[], opts?: RunOptions): Promise<number> {
  const start = performance.now();
  await runOk(cmd, opts);
  return performance.now() - start;
}

function inNode(node: NodeNs, cmd: string[]): string[] {
  return ["nsenter", `--net=/var/run/netns/${node.ns}`, "--", ...cmd];
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

function row(name: string, st: Stats): string {
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `${name.padEnd(26)}${String(st.n).padStart(5)}${f(st.p50)}${f(st.p99)}${f(st.min)}${f(st.max)}`;
}

export interface ReferenceLatency {
  /** `nsenter --net true`: the wrapper's own cost, included in every other figure. */
  baseline: Stats;
  directAdd: Stats;
  directDel: Stats;
  cnitoolAdd: Stats;
  cnitoolDel: Stats;
}

/** Milliseconds per call of the reference plugins; iterations are clamped to 1..500. */
export async function referenceCniLatency(iterations = 30): Promise<ReferenceLatency> {
  iterations = Math.min(500, Math.max(1, Math.floor(iterations)));
  requireCni();
  let bed: TestBed | undefined;
  const dirs = makeCniDirs();
  try {
    bed = await createTestBed({ subnet: "10.231.9.0/24" });
    const node = await bed.addNode();
    const pod: PodNs = await bed.addPod();
    const conflist = ptpConflist("benchptp", "10.232.9.0/24", dirs.ipamData);
    writeConflist(dirs, conflist);
    const plugin = (conflist.plugins as Array<Record<string, unknown>>)[0]!;
    const netconf = { cniVersion: conflist.cniVersion, name: conflist.name, ...plugin };
    const stdin = JSON.stringify(netconf);
    const cniEnv = (command: string, id: string) => ({
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: pod.path,
      CNI_IFNAME: "eth0",
      CNI_PATH: paths.cniPluginDir,
    });
    const cnitoolEnv = { NETCONFPATH: dirs.netconf, CNI_PATH: paths.cniPluginDir };
    const ptp = join(paths.cniPluginDir, "ptp");
    const r = {
      baseline: [] as number[],
      directAdd: [] as number[],
      directDel: [] as number[],
      toolAdd: [] as number[],
      toolDel: [] as number[],
    };

    // one untimed round of each, so first-use costs (page cache, ARP) do not land in the figures
    for (let i = 0; i <= iterations; i++) {
      const keep = i > 0;
      const b = await timed(inNode(node, ["true"]));
      const id = `bench-${process.pid}-${i}`;
      const da = await timed(inNode(node, [ptp]), { input: stdin, env: cniEnv("ADD", id) });
      const dd = await timed(inNode(node, [ptp]), { input: stdin, env: cniEnv("DEL", id) });
      const ta = await timed(inNode(node, [paths.cnitool, "add", "benchptp", pod.path]), { env: cnitoolEnv });
      const td = await timed(inNode(node, [paths.cnitool, "del", "benchptp", pod.path]), { env: cnitoolEnv });
      if (keep) {
        r.baseline.push(b);
        r.directAdd.push(da);
        r.directDel.push(dd);
        r.toolAdd.push(ta);
        r.toolDel.push(td);
      }
    }
    return {
      baseline: stats(r.baseline),
      directAdd: stats(r.directAdd),
      directDel: stats(r.directDel),
      cnitoolAdd: stats(r.toolAdd),
      cnitoolDel: stats(r.toolDel),
    };
  } finally {
    await bed?.destroy();
    dirs.remove();
  }
}

if (import.meta.main) {
  const iterations = Number(process.argv[2] ?? 30) || 30;
  const r = await referenceCniLatency(iterations);
  console.log(
    `reference ptp + host-local in the test bed, ${r.directAdd.n} iterations, milliseconds (wall clock per process)`,
  );
  console.log(
    `${"operation".padEnd(26)}${"n".padStart(5)}${"p50".padStart(8)}${"p99".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}`,
  );
  console.log(row("nsenter --net true", r.baseline));
  console.log(row("ptp ADD (direct exec)", r.directAdd));
  console.log(row("ptp DEL (direct exec)", r.directDel));
  console.log(row("cnitool add", r.cnitoolAdd));
  console.log(row("cnitool del", r.cnitoolDel));
}
