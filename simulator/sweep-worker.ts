// A worker thread of the sweep (sweep.ts): takes the run's trace and settings once, then one
// grid setting per message, and answers each with its point.
import { parentPort } from "node:worker_threads";
import { runOne, type SweepRun, type SweepSetting } from "./sweep.ts";

let run: SweepRun | undefined;

parentPort?.on("message", (m: { init: SweepRun } | { job: number; setting: SweepSetting }) => {
  if ("init" in m) {
    run = m.init;
    return;
  }
  if (run === undefined) throw new Error(`sweep job ${m.job} came before the run's settings`);
  parentPort?.postMessage({ job: m.job, point: runOne(run, m.setting) });
});
