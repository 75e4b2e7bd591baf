// The agent's spending of the account's API budget: full-jitter retry of throttled calls, the
// other kinds' retry unchanged, and the node's one bucket of mutating calls (caller.ts).
import { expect, test } from "bun:test";
import { DEFAULT_NODE_BUDGET } from "../../schema/cloud-budget.ts";
import { Caller, CONTROLLER_RATES, nodeBudget } from "./caller.ts";
import { VPC_ACTIONS } from "./cam-policy.ts";
import { FakeClock } from "./emulated-vpc-kit.ts";
import { backoffMs, DEFAULT_RETRY, THROTTLED_RETRY, withRetry } from "./retry.ts";

const refuse = (code: string) => () => Promise.reject(Object.assign(new Error(code), { code }));

test("a throttled call waits uniformly in [0, min(60 s, 1 s x 2^(n-1))): full jitter", () => {
  const n = [1, 2, 3, 4, 5, 6, 7, 8];
  expect(n.map((k) => backoffMs(THROTTLED_RETRY, k, () => 0))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  expect(n.map((k) => backoffMs(THROTTLED_RETRY, k, () => 0.5))).toEqual([
    500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
  ]);
  expect(THROTTLED_RETRY).toEqual({ attempts: 8, baseMs: 1_000, maxMs: 60_000, jitter: "full" });
});

test("throttled errors get 8 attempts and full jitter; transient ones keep 6 with equal jitter", async () => {
  const clock = new FakeClock();
  const delays: number[] = [];
  const deps = {
    policy: DEFAULT_RETRY,
    throttled: THROTTLED_RETRY,
    clock,
    random: () => 0.25,
    onRetry: (_e: unknown, _a: number, ms: number) => void delays.push(ms),
  };
  let calls = 0;
  const start = clock.now();
  const throttled = () => (calls++, refuse("RequestLimitExceeded")());
  await expect(withRetry("AssignPrivateIpAddresses", throttled, deps)).rejects.toMatchObject({ kind: "throttled" });
  expect(calls).toBe(8);
  expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000]);
  expect(clock.now() - start).toBe(30_750); // the sleeps are the clock's: no wall time

  calls = 0;
  delays.length = 0;
  const transient = () => (calls++, refuse("InternalError")());
  await expect(withRetry("AssignPrivateIpAddresses", transient, deps)).rejects.toMatchObject({ kind: "transient" });
  expect(calls).toBe(6);
  expect(delays).toEqual([62.5, 125, 250, 500, 1_000]); // cap/2 + 0.25 x cap/2, cap 100 ms x 2^(n-1)
});

test("a call that is throttled, then answers, returns the answer after its jittered waits", async () => {
  const clock = new FakeClock();
  let calls = 0;
  const start = clock.now();
  const fn = () => (++calls < 3 ? refuse("RequestLimitExceeded")() : Promise.resolve("ok"));
  const caller = new Caller({ clock, random: () => 0.5 });
  expect(await caller.call("AssignPrivateIpAddresses", fn)).toBe("ok");
  expect(clock.now() - start).toBe(500 + 1_000);
});

test("the node budget is one bucket for every mutating action; reads and task polls skip it", async () => {
  const clock = new FakeClock();
  const caller = new Caller({ clock, random: () => 0.5, mutationBudget: { perSecond: 2, burst: 3 } });
  const start = clock.now();
  const at: Record<string, number> = {};
  const call = async (action: string, tag: string) => {
    await caller.call(action, async () => "ok");
    at[tag] = clock.now() - start;
  };
  for (const [i, a] of ["CreateNetworkInterface", "AttachNetworkInterface", "AssignPrivateIpAddresses"].entries())
    await call(a, `m${i}`);
  await call("DescribeNetworkInterfaces", "read");
  await call("DescribeVpcTaskResult", "poll");
  await call("UnassignPrivateIpAddresses", "m3");
  await call("DeleteNetworkInterface", "m4");
  // a burst of 3 across three actions, then one every 500 ms; the reads never wait
  expect(at).toEqual({ m0: 0, m1: 0, m2: 0, read: 0, poll: 0, m3: 500, m4: 1_000 });
});

test("every attempt spends the budget, retries included: the account counts them all", async () => {
  const clock = new FakeClock();
  const caller = new Caller({
    clock,
    random: () => 0,
    mutationBudget: { perSecond: 1, burst: 1 },
  });
  let calls = 0;
  const start = clock.now();
  const fn = () => (++calls < 3 ? refuse("RequestLimitExceeded")() : Promise.resolve("ok"));
  // random 0: no back-off at all, so the 1 s between attempts is the budget's
  expect(await caller.call("AssignPrivateIpAddresses", fn)).toBe("ok");
  expect(clock.now() - start).toBe(2_000);
});

test("without a budget (the fixed-IP controller's CONTROLLER_RATES) mutating calls go at the action's rate", async () => {
  const clock = new FakeClock();
  const caller = new Caller({ clock, random: () => 0.5, rates: CONTROLLER_RATES });
  const start = clock.now();
  await Promise.all(Array.from({ length: 40 }, () => caller.call("AssignPrivateIpAddresses", async () => "ok")));
  expect(clock.now() - start).toBe(0);
});

test("nodeBudget: the policy's spec.cloud.rateLimits, or the fair share of a 1,000-node cluster", () => {
  expect(nodeBudget(undefined)).toEqual({ perSecond: 0.1, burst: 20 });
  expect(DEFAULT_NODE_BUDGET.mutationsPerSecond * 1_000).toBe(100); // the account's Assign limit
  expect(nodeBudget({ mutationsPerSecond: 2, burst: 5 })).toEqual({ perSecond: 2, burst: 5 });
});

test("each action keeps one bucket across calls; an action without a rate of its own gets 5/s with a burst of 10", async () => {
  const clock = new FakeClock();
  const caller = new Caller({ clock, random: () => 0.5 });
  const start = clock.now();
  for (let i = 0; i < 12; i++) await caller.call("SomeNewAction", async () => i);
  expect(clock.now() - start).toBe(400); // 10 at once, then one per 200 ms
  const assign = clock.now();
  for (let i = 0; i < 21; i++) await caller.call("AssignPrivateIpAddresses", async () => i);
  expect(clock.now() - assign).toBe(100); // DEFAULT_RATES: 20 at once, then 10/s
});

test("the controller may spend what every node's share adds up to, under the account's limits", () => {
  for (const [action, rate] of Object.entries(CONTROLLER_RATES)) {
    expect({ action, ok: rate.perSecond >= 5 && rate.perSecond <= 40 && rate.burst >= rate.perSecond }).toEqual({
      action,
      ok: true,
    });
  }
  // every action the adapter calls (the CAM policy's list, which its own test keeps complete)
  expect(Object.keys(CONTROLLER_RATES).sort()).toEqual([...VPC_ACTIONS].sort());
});

test("every attempt is observed with its duration and, on failure, its code and kind; a retry is logged", async () => {
  const clock = new FakeClock();
  const seen: unknown[] = [];
  const logged: unknown[] = [];
  const caller = new Caller({
    clock,
    random: () => 0,
    observe: (o) => seen.push({ ...o, ms: o.ms >= 0 && o.ms <= performance.now() - before }),
    log: (event, fields) => logged.push([event, fields]),
  });
  let n = 0;
  const before = performance.now(); // each attempt's duration lies within the call's
  const answer = await caller.call("DescribeSubnets", async () => {
    if (++n === 1) throw Object.assign(new Error("slow down"), { code: "RequestLimitExceeded", requestId: "r-1" });
    return "ok";
  });
  expect(answer).toBe("ok");
  expect(seen).toEqual([
    { action: "DescribeSubnets", ms: true, code: "RequestLimitExceeded", kind: "throttled" },
    { action: "DescribeSubnets", ms: true },
  ]);
  expect(logged).toEqual([
    [
      "cloud call retried",
      {
        action: "DescribeSubnets",
        kind: "throttled",
        code: "RequestLimitExceeded",
        requestId: "r-1",
        attempt: 1,
        delayMs: 0,
      },
    ],
  ]);
});
