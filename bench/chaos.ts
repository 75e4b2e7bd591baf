// Chaos soak (long; not in the test command, which runs test/e2e/chaos.test.ts): pod churn
// with up to 64 CNI calls at once on two nodes, >= 100 kill -9 of agents at random moments, 20%
// cloud faults (errors before and after the action, throttling, failed and slow tasks).
//   node_modules/.bin/bun bench/chaos.ts [--kills 100] [--seed N] [--fault-rate 0.2] [--max-parallel 64]
//                                 [--post-mortem DIR]
// --post-mortem DIR keeps each agent's log and the run's progress there when a problem is found.
// Last line: chaos kills=<n> faults=<n> duplicates=<n> leaks=<n> unreachable=<n> (goal: the
// last three 0). It reports; it never fails on time.
import { parseArgs } from "node:util";
import { runChaos } from "../sandbox/chaos.ts";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "100" },
    seed: { type: "string", default: "1" },
    "fault-rate": { type: "string", default: "0.2" },
    "post-mortem": { type: "string" },
    "max-parallel": { type: "string", default: "64" },
  },
});
const report = await runChaos({
  kills: Number(values.kills),
  seed: Number(values.seed),
  faultRate: Number(values["fault-rate"]),
  maxParallel: Number(values["max-parallel"]),
  postMortem: values["post-mortem"],
  log: (line) => console.log(line),
});
console.log(
  `${report.pods} pods at the end, ${report.cnis} CNI calls, ${report.calls} cloud calls of which ${report.faults} faulted, ${report.seconds.toFixed(0)} s`,
);
console.log(`restarts that replayed cloud calls in flight at the kill: ${report.replayedRestarts} of ${report.kills}`);
for (const p of report.problems.slice(0, 20)) console.log(`problem: ${p}`);
console.log(
  `chaos kills=${report.kills} faults=${report.faults} duplicates=${report.duplicates} leaks=${report.leaks} unreachable=${report.unreachable}`,
);
