// CNI latency: vpccni (compiled binary -> unix socket -> agent-side IprouteDataPlane) against
// the reference ptp + host-local plugins, in the same test bed and the same run, interleaved
// so that machine noise hits both alike. Also the binary's bare start-up (VERSION) and the
// agent-side share of each call, to show where the time goes. Namespaces and loopback only;
// bounded iterations; prints figures, never fails on time. The agent side is the test stub
// (test/dataplane/stub-agent.ts) over the real data plane, until runtime/agent serves it.
//
//   node_modules/.bin/bun bench/cni.ts [iterations]     (root; default 40, max 500)
//   last line: ratio ADD=<x> DEL=<y>   (vpccni p50 / reference p50, direct exec)
import { join } from "node:path";
import { IprouteDataPlane, type PodKey, type PodSpec } from "../runtime/net/index.ts";
import { makeCniDirs, ptpConflist } from "../test/harness/cni.ts";
import { runOk, type RunOptions } from "../test/harness/exec.ts";
import { paths } from "../test/harness/paths.ts";
import { requireCni } from "../test/harness/prereq.ts";
import { makeRig, vpccniPlugin } from "../test/dataplane/cni-kit.ts";
import { startStubAgent } from "../test/dataplane/stub-agent.ts";
import { makeWorld } from "../test/dataplane/world.ts";

const iterations = Math.min(500, Math.max(1, Number(process.argv[2] ?? 40) || 40));

async function timed(cmd: string[], opts?: RunOptions): Promise<number> {
  const start = performance.now();
  await runOk(cmd, opts);
  return performance.now() - start;
}

function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}
const p50 = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);

function row(name: string, samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `${name.padEnd(34)}${String(s.length).padStart(5)}${f(pct(s, 50))}${f(pct(s, 99))}${f(s[0] ?? NaN)}${f(s[s.length - 1] ?? NaN)}`;
}

/** Times the data-plane calls the agent makes, so the agent's share can be subtracted. */
class TimedDataPlane extends IprouteDataPlane {
  wireMs: number[] = [];
  unwireMs: number[] = [];
  override async wirePod(pod: PodSpec) {
    const t = performance.now();
    try {
      return await super.wirePod(pod);
    } finally {
      this.wireMs.push(performance.now() - t);
    }
  }
  override async unwirePod(key: PodKey, ip?: string, table?: number) {
    const t = performance.now();
    try {
      return await super.unwirePod(key, ip, table);
    } finally {
      this.unwireMs.push(performance.now() - t);
    }
  }
}

async function main(): Promise<void> {
  requireCni();
  const w = await makeWorld(1);
  const rig = await makeRig();
  const dirs = makeCniDirs();
  const n = w.nodes[0]!;
  const dp = new TimedDataPlane({ netns: n.node.ns });
  const ips = ["10.231.8.101", "10.231.8.102"];
  await w.fabric.onAssign(n.eni, ips);
  const agent = startStubAgent({ socket: rig.socket, dp, eniMac: n.eni.mac, table: n.link.table, ips });
  try {
    const inNode = (cmd: string[]) => ["nsenter", `--net=/var/run/netns/${n.node.ns}`, "--", ...cmd];
    const ptpList = ptpConflist("benchptp", "10.232.9.0/24", dirs.ipamData);
    const ptpStdin = JSON.stringify({ cniVersion: ptpList.cniVersion, name: ptpList.name, ...(ptpList.plugins as object[])[0] });
    const ourStdin = JSON.stringify({ cniVersion: "1.1.0", name: "vpc", ...vpccniPlugin(rig) });
    const env = (command: string, id: string, netns: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: "eth0", CNI_PATH: paths.cniPluginDir });
    const ptp = join(paths.cniPluginDir, "ptp");
    const ours = join(rig.binDir, "vpccni");
    const r = { base: [] as number[], start: [] as number[], status: [] as number[], oAdd: [] as number[], oDel: [] as number[], rAdd: [] as number[], rDel: [] as number[] };

    // round 0 is untimed: first-use costs (page cache of a 100 MB binary, ARP) stay out.
    // Each ADD gets a fresh pod netns, removed after DEL, as a runtime does (untimed).
    for (let i = 0; i <= iterations; i++) {
      const id = `bench-${process.pid}-${i}`;
      const podA = await w.bed.addPod({ name: `o${i}` });
      const podB = await w.bed.addPod({ name: `r${i}` });
      const b = await timed(inNode(["true"]));
      const s = await timed(inNode([ours]), { env: { CNI_COMMAND: "VERSION" } });
      const st = await timed(inNode([ours]), { input: ourStdin, env: { CNI_COMMAND: "STATUS" } });
      const oa = await timed(inNode([ours]), { input: ourStdin, env: env("ADD", id, podA.path) });
      const od = await timed(inNode([ours]), { input: ourStdin, env: env("DEL", id, podA.path) });
      const ra = await timed(inNode([ptp]), { input: ptpStdin, env: env("ADD", id, podB.path) });
      const rd = await timed(inNode([ptp]), { input: ptpStdin, env: env("DEL", id, podB.path) });
      await runOk(["ip", "netns", "del", podA.ns]);
      await runOk(["ip", "netns", "del", podB.ns]);
      if (i === 0) {
        dp.wireMs = [];
        dp.unwireMs = [];
        continue;
      }
      r.base.push(b); r.start.push(s); r.status.push(st); r.oAdd.push(oa); r.oDel.push(od); r.rAdd.push(ra); r.rDel.push(rd);
    }
    console.log(`CNI latency in the test bed, ${iterations} iterations, milliseconds (wall clock per process, incl. nsenter)`);
    console.log(`${"operation".padEnd(34)}${"n".padStart(5)}${"p50".padStart(8)}${"p99".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}`);
    console.log(row("nsenter --net true", r.base));
    console.log(row("vpccni VERSION (bare start-up)", r.start));
    console.log(row("vpccni STATUS (socket round trip)", r.status));
    console.log(row("vpccni ADD", r.oAdd));
    console.log(row("  agent: wirePod (2 ip -batch)", dp.wireMs));
    console.log(row("vpccni DEL", r.oDel));
    console.log(row("  agent: unwirePod (rules, route)", dp.unwireMs));
    console.log(row("ptp + host-local ADD", r.rAdd));
    console.log(row("ptp + host-local DEL", r.rDel));
    const add = p50(r.oAdd) / p50(r.rAdd);
    const del = p50(r.oDel) / p50(r.rDel);
    console.log(`ratio ADD=${add.toFixed(2)} DEL=${del.toFixed(2)}`);
  } finally {
    await agent.stop();
    await w.bed.destroy();
    rig.remove();
    dirs.remove();
  }
}

await main();
