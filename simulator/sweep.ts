// `vpccni simulate --recommend`: the same trace replayed through the real engine once per
// prebind min/max and releaseInterval of a grid, every run with the same seed so that the
// settings alone differ. Runs are spread over worker threads (a day-long trace takes about
// half a second per run); the points come back in grid order whatever the threads' timing.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PoolSettings } from "../runtime/pool/index.ts";
import type { LatencyProfile } from "./cloud-model.ts";
import { simulate } from "./run.ts";
import type { Trace } from "./trace.ts";

export interface SweepSetting {
  min: number;
  max: number;
  releaseIntervalMs: number;
}

/** What one run cost, in the simulator report's own units (docs/pool.md, "Reading the report"). */
export interface SweepPoint extends SweepSetting {
  /** Mutating VPC API calls (`apiCalls.total`). */
  calls: number;
  /** Pods that waited for an IP (`pods.waited`), and the p99 of their waits. */
  waited: number;
  waitP99Ms: number | null;
  /** Idle bound IPs summed over nodes: time-weighted mean and peak (`idleIps`). */
  idleMean: number;
  idlePeak: number;
}

export interface SweepGrid {
  mins: readonly number[];
  /** max - min. */
  bands: readonly number[];
  releaseIntervalsMs: readonly number[];
}

const MINUTE = 60_000;

/**
 * min 0..10 and max from min to min + 15, thinned where the figures change slowly, and
 * releaseInterval 30s to 10m: 360 runs. On the diurnal trace the full 0..10 x 0..15 grid (880
 * runs, 200 s on two busy cores) picks 2/11, 10m (254 calls, 27.0 idle IPs); this one 2/12,
 * 10m (252 calls, 28.0), in well under half the time.
 */
export const DEFAULT_GRID: SweepGrid = {
  mins: [0, 1, 2, 3, 4, 5, 6, 8, 10],
  bands: [0, 1, 2, 3, 5, 8, 10, 15],
  releaseIntervalsMs: [MINUTE / 2, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE],
};

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export function gridSettings(grid: SweepGrid): SweepSetting[] {
  return grid.mins.flatMap((min) =>
    grid.bands.flatMap((band) =>
      grid.releaseIntervalsMs.map((releaseIntervalMs) => ({ min, max: min + band, releaseIntervalMs })),
    ),
  );
}

export interface SweepRun {
  trace: Trace;
  /** The policy's settings; min, max and releaseInterval are replaced per run. */
  base: PoolSettings;
  latency: LatencyProfile;
  seed: number;
}

/** One run of the grid: the real engine over the whole trace. */
export function runOne(run: SweepRun, s: SweepSetting): SweepPoint {
  const settings = { ...run.base, minPrebind: s.min, maxPrebind: s.max, releaseIntervalMs: s.releaseIntervalMs };
  const { report } = simulate({ trace: run.trace, settings, strategy: "vpccni", latency: run.latency, seed: run.seed });
  return {
    ...s,
    calls: report.apiCalls.total,
    waited: report.pods.waited,
    waitP99Ms: report.pods.waitP99Ms,
    idleMean: report.idleIps.mean,
    idlePeak: report.idleIps.peak,
  };
}

export interface SweepOptions extends SweepRun {
  settings: readonly SweepSetting[];
  /** Worker threads; 0 runs in this thread. Default: one per CPU (this thread only hands out runs), at most 8. */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

export function defaultWorkers(): number {
  return Math.min(8, Math.max(1, availableParallelism()));
}

/** Every setting run once; the points in the order of `settings`. */
export async function runSweep(opts: SweepOptions): Promise<SweepPoint[]> {
  const total = opts.settings.length;
  const workers = Math.min(opts.workers ?? defaultWorkers(), total);
  const points: SweepPoint[] = new Array(total);
  if (workers === 0) {
    opts.settings.forEach((s, i) => {
      points[i] = runOne(opts, s);
      opts.onProgress?.(i + 1, total);
    });
    return points;
  }
  let next = 0;
  let done = 0;
  const init = { trace: opts.trace, base: opts.base, latency: opts.latency, seed: opts.seed };
  const threads: Worker[] = [];
  try {
    await Promise.all(
      Array.from(
        { length: workers },
        () =>
          new Promise<void>((resolve, reject) => {
            const w = new Worker(new URL("./sweep-worker.ts", import.meta.url));
            threads.push(w);
            const give = () => {
              if (next >= total) return resolve();
              const job = next++;
              w.postMessage({ job, setting: opts.settings[job] });
            };
            w.on("message", (m: { job: number; point: SweepPoint }) => {
              points[m.job] = m.point;
              opts.onProgress?.(++done, total);
              give();
            });
            w.on("error", reject);
            w.postMessage({ init });
            give();
          }),
      ),
    );
  } finally {
    // also when one thread failed: the others must not keep the process alive
    await Promise.all(threads.map((w) => w.terminate()));
  }
  return points;
}
