// The short fixed-IP chaos run of the test command (bench/chaos.ts --fixed runs it long): pods
// come and go by name on two nodes while the controllers' leader is killed with -9 and 20% of
// cloud calls fail. No address may be held twice, leak, or stay unreachable.
import { describe, expect, test } from "bun:test";
import { runFixedChaos } from "../../sandbox/fixed-chaos.ts";
import { requireCni, requirePing } from "../../sandbox/prereq.ts";
import { useSharedCluster } from "../harness/shared-apiserver-kit.ts";

describe("fixed IP chaos, short", () => {
  const cluster = useSharedCluster();

  test("3 leader kills under churn and 20% cloud faults: no address twice, no leak, every pod reachable", async () => {
    requireCni();
    requirePing();
    const r = await runFixedChaos({ cluster: cluster(), kills: 3, seed: 20261130, budgetMs: 230_000 });
    expect(r.problems).toEqual([]);
    expect({ duplicates: r.duplicates, leaks: r.leaks, unreachable: r.unreachable }).toEqual({
      duplicates: 0,
      leaks: 0,
      unreachable: 0,
    });
    // it did what it says: leaders were killed, the cloud failed calls, pods churned
    expect(r.kills).toBe(3);
    expect(r.faults).toBeGreaterThan(0);
    expect(r.cnis).toBeGreaterThan(20);
  }, 300_000);
});
