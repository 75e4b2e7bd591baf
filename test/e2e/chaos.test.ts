// The short chaos run of the test command (bench/chaos.ts runs it long): pod churn through the
// real CNI binary on two nodes, kill -9 of agents at random moments, 20% cloud faults. Nothing
// may be held twice, leak, stay unreachable or sit outside pods + min .. pods + max.
import { describe, expect, test } from "bun:test";
import { runChaos } from "../../sandbox/chaos.ts";
import { requireCni, requirePing } from "../../sandbox/prereq.ts";

describe("chaos, short", () => {
  test("8 kills under churn and 20% cloud faults: no duplicate, no leak, every pod reachable", async () => {
    requireCni();
    requirePing();
    // The budget keeps a hang a finding with the run's progress, inside the test's timeout.
    const r = await runChaos({
      kills: 8,
      seed: 20261130,
      maxParallel: 16,
      budgetMs: 230_000,
      postMortem: process.env.VPCCNI_CHAOS_POST_MORTEM,
    });
    expect(r.problems).toEqual([]);
    expect({
      duplicates: r.duplicates,
      leaks: r.leaks,
      unreachable: r.unreachable,
      outOfBounds: r.outOfBounds,
    }).toEqual({
      duplicates: 0,
      leaks: 0,
      unreachable: 0,
      outOfBounds: 0,
    });
    // it did what it says: agents were killed and the cloud did fail calls
    expect(r.kills).toBe(8);
    expect(r.faults).toBeGreaterThan(0);
    // and pods were live at the end: the churn never deletes below 10 (sandbox/chaos.ts), so
    // exactly 10 is a legal end (it happened), fewer is lost pods
    expect(r.pods).toBeGreaterThanOrEqual(10);
  }, 300_000);
});
