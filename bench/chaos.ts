// Chaos soak (long; not in the test command, which runs test/e2e/chaos.test.ts and
// test/e2e/fixed-chaos.test.ts).
// Shared IP mode (default): pod churn with up to 64 CNI calls at once on two nodes, >= 100 kill -9
// of agents at random moments, 20% cloud faults (errors before and after the action, throttling,
// requests never answered, stale Describes, failed and slow tasks).
// --fixed: fixed IP mode on a real kube-apiserver: pods come and go by name while the
// controllers' leader is killed with -9 (a new replica started each time), 20% cloud faults.
//   node_modules/.bin/bun bench/chaos.ts [--fixed] [--kills 100] [--seed N] [--fault-rate 0.2]
//                                 [--max-parallel 64] [--post-mortem DIR]
// --post-mortem DIR keeps each agent's log and the run's progress there when a problem is found.
// Last line: chaos kills=<n> faults=<n> duplicates=<n> leaks=<n> unreachable=<n> (goal: the
// last three 0). It reports; it never fails on time.
import { parseArgs } from "node:util";
import { startCluster } from "../sandbox/apiserver.ts";
import { runChaos } from "../sandbox/chaos.ts";
import { runFixedChaos } from "../sandbox/fixed-chaos.ts";

const { values } = parseArgs({
  options: {
    fixed: { type: "boolean", default: false },
    kills: { type: "string", default: "100" },
    seed: { type: "string", default: "1" },
    "fault-rate": { type: "string", default: "0.2" },
    "post-mortem": { type: "string" },
    "max-parallel": { type: "string", default: "64" },
  },
});

const kills = Number(values.kills);
const seed = Number(values.seed);
const faultRate = Number(values["fault-rate"]);
const log = (line: string) => console.log(line);

let last: { kills: number; faults: number; duplicates: number; leaks: number; unreachable: number };
if (values.fixed) {
  const cluster = await startCluster();
  try {
    const report = await runFixedChaos({ cluster, kills, seed, faultRate, log });
    console.log(
      `${report.pods} live pods at the end, ${report.cnis} CNI calls, ${report.faults} cloud calls faulted, ${report.seconds.toFixed(0)} s`,
    );
    console.log(`longest time without a leader after a kill: ${(report.longestTakeoverMs / 1000).toFixed(1)} s`);
    for (const p of report.problems.slice(0, 20)) console.log(`problem: ${p}`);
    last = report;
  } finally {
    await cluster.stop();
  }
} else {
  const report = await runChaos({
    kills,
    seed,
    faultRate,
    maxParallel: Number(values["max-parallel"]),
    postMortem: values["post-mortem"],
    log,
  });
  console.log(
    `${report.pods} pods at the end, ${report.cnis} CNI calls, ${report.calls} cloud calls of which ${report.faults} faulted, ${report.seconds.toFixed(0)} s`,
  );
  console.log(
    `restarts that replayed cloud calls in flight at the kill: ${report.replayedRestarts} of ${report.kills}`,
  );
  for (const p of report.problems.slice(0, 20)) console.log(`problem: ${p}`);
  last = report;
}
console.log(
  `chaos kills=${last.kills} faults=${last.faults} duplicates=${last.duplicates} leaks=${last.leaks} unreachable=${last.unreachable}`,
);
