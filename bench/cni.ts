// CNI latency: vpccni (compiled binary -> unix socket -> the real `vpccni agent`: pool
// allocation, SQLite commit, attachment record, wiring) against the reference ptp +
// host-local plugins, in the same node namespace and the same run, interleaved so that
// machine noise hits both alike. The world is the end-to-end one (test/e2e/world.ts): cloud
// emulator, one node namespace, the agent as its own process. The pool is prebound and
// warmed first, so every ADD takes an idle IP: the warm path, never a wait for the cloud.
// Also the binary's bare start-up (VERSION), the socket round trip (STATUS) and the agent's
// own timings from its "pod wired" / "pod unwired" log lines, to show where the time goes.
// Namespaces and loopback only; bounded iterations; prints figures, never fails on time.
//
//   node_modules/.bin/bun bench/cni.ts [iterations]     (root; default 40, max 500)
//   last line: ratio ADD=<x> DEL=<y>   (vpccni p50 / reference p50)
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeCniDirs, ptpConflist } from "../sandbox/cnitool.ts";
import { run, runOk, type RunOptions } from "../sandbox/exec.ts";
import { paths } from "../sandbox/paths.ts";
import { requireCni, requirePrereq } from "../sandbox/prereq.ts";
import { NETWORK, waitFor, EmulatedCluster } from "../sandbox/emulated-cluster.ts";

const iterations = Math.min(500, Math.max(1, Number(process.argv[2] ?? 40) || 40));
// Prebind well above the one pod alive at a time; no cooldown, so a released IP is ready
// for the next ADD; no release during the run.
const PREBIND = 20;
const SPEC = { prebind: { min: PREBIND, max: PREBIND }, ipCooldown: "0s", releaseInterval: "10m" };

async function timed(cmd: string[], opts?: RunOptions): Promise<number> {
  const start = performance.now();
  await runOk(cmd, opts);
  return performance.now() - start;
}

/**
 * Peak resident memory of one plugin process (itself, not children it runs), from GNU time
 * (Debian `time`): a wrapper this small adds nothing to the figure, unlike a forked Bun.
 */
async function peakRss(cmd: string[], opts: { input?: string; env: Record<string, string> }): Promise<number> {
  const r = await run(["/usr/bin/time", "-f", "rss-kb=%M", ...cmd], opts);
  const kb = /rss-kb=(\d+)/.exec(r.stderr)?.[1];
  if (r.code !== 0 || kb === undefined) throw new Error(`${cmd.join(" ")} (${r.code}): ${r.stdout}${r.stderr}`);
  return Number(kb) * 1024;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

function pct(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}
const p50 = (xs: number[]) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

function row(name: string, samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `${name.padEnd(38)}${String(s.length).padStart(5)}${f(pct(s, 50))}${f(pct(s, 99))}${f(s[0] ?? NaN)}${f(s[s.length - 1] ?? NaN)}`;
}

/** The agent's timing fields (`...Ms`) of one log message, by container ID. */
function agentTimings(log: string, msg: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const line of log.split("\n")) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    const id = String(rec.key ?? "").split("/")[1] ?? "";
    out.set(
      id,
      Object.fromEntries(Object.entries(rec).filter(([k, v]) => k.endsWith("Ms") && typeof v === "number")) as Record<
        string,
        number
      >,
    );
  }
  return out;
}

async function main(): Promise<void> {
  requireCni();
  requirePrereq("GNU time (Debian time)", () => existsSync("/usr/bin/time") || "/usr/bin/time is missing");
  const world = await EmulatedCluster.start({ nodes: 1, caller: "direct", spec: SPEC });
  const dirs = makeCniDirs();
  try {
    const node = world.nodes[0]!;
    await node.startAgent();
    await waitFor(
      `the agent to bind ${PREBIND} idle IPs`,
      async () => (await node.view()).summary.ready >= PREBIND,
      120_000,
    );
    const inNode = (cmd: string[]) => ["nsenter", `--net=/var/run/netns/${node.ns.ns}`, "--", ...cmd];
    const ptpList = ptpConflist("benchptp", "10.232.9.0/24", dirs.ipamData);
    const ptpStdin = JSON.stringify({
      cniVersion: ptpList.cniVersion,
      name: ptpList.name,
      ...(ptpList.plugins as object[])[0],
    });
    const ourStdin = JSON.stringify({ cniVersion: "1.1.0", name: NETWORK, type: "vpccni", socket: node.socket });
    const env = (command: string, id: string, netns: string, pod: string) => ({
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: netns,
      CNI_IFNAME: "eth0",
      CNI_PATH: paths.cniPluginDir,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=${pod}`,
    });
    const ptp = join(paths.cniPluginDir, "ptp");
    const ours = join(world.cniBin, "vpccni");
    const r = {
      base: [] as number[],
      start: [] as number[],
      status: [] as number[],
      oAdd: [] as number[],
      oDel: [] as number[],
      rAdd: [] as number[],
      rDel: [] as number[],
    };
    const timedIds: string[] = [];

    // Rounds 0-2 are untimed: first-use costs (page cache of a 100 MB binary, ARP, the one
    // prebind top-up after the first ADD) stay out. Each ADD gets a fresh pod netns, removed
    // after DEL, as a runtime does (untimed).
    const warmup = 3;
    for (let i = 0; i < iterations + warmup; i++) {
      const id = `bench${process.pid}x${i}`;
      const podA = await node.newPodNamespace(`o${i}`);
      const podB = await node.newPodNamespace(`r${i}`);
      const b = await timed(inNode(["true"]));
      const s = await timed(inNode([ours]), { env: { CNI_COMMAND: "VERSION" } });
      const st = await timed(inNode([ours]), {
        input: ourStdin,
        env: { CNI_COMMAND: "STATUS", CNI_PATH: paths.cniPluginDir },
      });
      const oa = await timed(inNode([ours]), { input: ourStdin, env: env("ADD", id, podA.path, `o${i}`) });
      const od = await timed(inNode([ours]), { input: ourStdin, env: env("DEL", id, podA.path, `o${i}`) });
      const ra = await timed(inNode([ptp]), { input: ptpStdin, env: env("ADD", id, podB.path, `r${i}`) });
      const rd = await timed(inNode([ptp]), { input: ptpStdin, env: env("DEL", id, podB.path, `r${i}`) });
      await runOk(["ip", "netns", "del", podA.ns]);
      await runOk(["ip", "netns", "del", podB.ns]);
      if (i < warmup) continue;
      timedIds.push(id);
      r.base.push(b);
      r.start.push(s);
      r.status.push(st);
      r.oAdd.push(oa);
      r.oDel.push(od);
      r.rAdd.push(ra);
      r.rDel.push(rd);
    }
    // Size on disk and peak RSS per call (ADD and DEL, 5 rounds each; the largest seen)
    const rss = { ours: 0, ptp: 0 };
    for (let i = 0; i < 5; i++) {
      const id = `benchrss${process.pid}x${i}`;
      const podA = await node.newPodNamespace(`so${i}`);
      const podB = await node.newPodNamespace(`sr${i}`);
      for (const command of ["ADD", "DEL"]) {
        const o = await peakRss(inNode([ours]), { input: ourStdin, env: env(command, id, podA.path, `so${i}`) });
        const p = await peakRss(inNode([ptp]), { input: ptpStdin, env: env(command, id, podB.path, `sr${i}`) });
        rss.ours = Math.max(rss.ours, o);
        rss.ptp = Math.max(rss.ptp, p);
      }
      await runOk(["ip", "netns", "del", podA.ns]);
      await runOk(["ip", "netns", "del", podB.ns]);
    }
    const view = await node.view();
    const log = node.agentLog();
    const addLog = agentTimings(log, "pod wired");
    const delLog = agentTimings(log, "pod unwired");
    const adds = timedIds.map((id) => addLog.get(id) ?? {});
    const dels = timedIds.map((id) => delLog.get(id) ?? {});
    const field = (recs: Record<string, number>[], k: string) =>
      recs.map((x) => x[k]).filter((v): v is number => v !== undefined);
    const agentAdd = adds.map((x) => (x.allocMs ?? NaN) + (x.turnMs ?? NaN) + (x.wireMs ?? NaN));
    // Per ADD: its wall time minus what the agent spent inside the handler, paired sample by sample.
    const outside = r.oAdd.map((ms, i) => ms - (agentAdd[i] ?? NaN)).filter((x) => !Number.isNaN(x));

    console.log(
      `CNI latency, real agent (prebind ${PREBIND}; at the end ${view.summary.ready} idle, ${view.inflight.length} cloud operations in flight), ${iterations} iterations, ms (wall clock per process, incl. nsenter)`,
    );
    console.log(
      `${"operation".padEnd(38)}${"n".padStart(5)}${"p50".padStart(8)}${"p99".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}`,
    );
    console.log(row("nsenter --net true", r.base));
    console.log(row("vpccni VERSION (bare start-up)", r.start));
    console.log(row("vpccni STATUS (socket round trip)", r.status));
    console.log(row("vpccni ADD", r.oAdd));
    console.log(row("  outside the agent", outside));
    console.log(row("  agent: allocation + record", field(adds, "allocMs")));
    console.log(row("  agent: wait for its wiring turn", field(adds, "turnMs")));
    console.log(row("  agent: wirePod (netlink)", field(adds, "wireMs")));
    console.log(row("vpccni DEL", r.oDel));
    console.log(row("  agent: unwirePod (rules, route)", field(dels, "unwireMs")));
    console.log(row("  agent: release + record delete", field(dels, "releaseMs")));
    console.log(row("ptp + host-local ADD", r.rAdd));
    console.log(row("ptp + host-local DEL", r.rDel));
    // ADD by part, p50s (the parts' medians need not add up to the ADD's median exactly).
    const start = p50(r.start);
    const agent = p50(field(adds, "allocMs")) + p50(field(adds, "turnMs"));
    console.log(
      `ADD p50 by part: binary start-up ${start.toFixed(1)} (VERSION, incl. nsenter ${p50(r.base).toFixed(1)}); ` +
        `socket round trip + HTTP/JSON ${(p50(outside) - start).toFixed(1)} (outside the agent minus start-up); ` +
        `agent allocation + record + wiring turn ${agent.toFixed(1)}; wiring ${p50(field(adds, "wireMs")).toFixed(1)}`,
    );
    console.log(
      `plugin on disk and peak RSS per call: vpccni ${mb(statSync(ours).size)} MB, ${mb(rss.ours)} MB RSS; ` +
        `ptp ${mb(statSync(ptp).size)} MB, ${mb(rss.ptp)} MB RSS (goal for vpccni: <= 15 MB on disk, <= 10 MB RSS)`,
    );
    const add = p50(r.oAdd) / p50(r.rAdd);
    const del = p50(r.oDel) / p50(r.rDel);
    console.log(`ratio ADD=${add.toFixed(2)} DEL=${del.toFixed(2)}`);
  } finally {
    await world.stop();
    dirs.remove();
  }
}

await main();
