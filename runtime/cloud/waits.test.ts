// The waits on asynchronous tasks and on an ENI's state, on a fake clock: when they poll, when
// they give up, and what they say then.
import { describe, expect, test } from "bun:test";
import { FakeClock } from "./emulated-vpc-kit.ts";
import type { Eni } from "./types.ts";
import { Waiter, type WaitOptionsInput } from "./waits.ts";

function waiter(statuses: (string | undefined)[], options: WaitOptionsInput = {}) {
  const clock = new FakeClock();
  const start = clock.now();
  const polls: number[] = [];
  const w = new Waiter({
    clock,
    options,
    taskStatus: async () => {
      polls.push(clock.now() - start);
      return statuses.length > 1 ? statuses.shift() : statuses[0];
    },
    getEni: async () => {
      polls.push(clock.now() - start);
      const s = statuses.length > 1 ? statuses.shift() : statuses[0];
      return s === undefined ? undefined : ({ id: "eni-abcd1234", state: s } as Eni);
    },
  });
  return { w, polls };
}

const TIGHT = { attachMs: 1_000, detachMs: 800, defaultMs: 300, pollMs: 100, maxPollMs: 400 };

describe("Waiter.task", () => {
  test("no task id: nothing to wait for; an unknown task or SUCCESS ends the wait", async () => {
    const none = waiter(["RUNNING"]);
    await none.w.task("A", undefined);
    await none.w.task("A", "");
    expect(none.polls).toEqual([]);
    const gone = waiter([undefined]);
    await gone.w.task("A", "t1");
    expect(gone.polls).toEqual([50]);
  });

  test("FAILED is a transient error naming the task; RUNNING past the deadline is a timeout", async () => {
    await expect(waiter(["RUNNING", "FAILED"]).w.task("AttachNetworkInterface", "t1", "attach")).rejects.toMatchObject({
      kind: "transient",
      code: "FailedOperation.TaskFailed",
      requestId: "t1",
      message: "AttachNetworkInterface: task t1 FAILED",
    });
    const slow = waiter(["RUNNING"], TIGHT);
    await expect(slow.w.task("DetachNetworkInterface", "t2", "detach")).rejects.toMatchObject({
      kind: "timeout",
      requestId: "t2",
      message: "DetachNetworkInterface: task t2 still RUNNING at its deadline",
    });
    // detach: first poll at 300, then +100, +200 (800 is the deadline: the next +400 would pass it)
    expect(slow.polls).toEqual([300, 400, 600]);
  });

  test("each kind has its own deadline and first poll; the first poll never waits past the deadline", async () => {
    const attach = waiter(["RUNNING"], TIGHT);
    await expect(attach.w.task("A", "t", "attach")).rejects.toMatchObject({ kind: "timeout" });
    expect(attach.polls).toEqual([500, 600, 800]); // 800 + 400 > 1,000
    const other = waiter(["RUNNING"], TIGHT);
    await expect(other.w.task("A", "t")).rejects.toMatchObject({ kind: "timeout" });
    expect(other.polls).toEqual([50, 150]); // 150 + 200 > 300
    const short = waiter(["RUNNING"], { ...TIGHT, defaultMs: 20 });
    await expect(short.w.task("A", "t")).rejects.toMatchObject({ kind: "timeout" });
    expect(short.polls).toEqual([20]);
    const exact = waiter(["RUNNING", "SUCCESS"], { ...TIGHT, defaultMs: 150 });
    await exact.w.task("A", "t"); // 50 + 100 = 150 is not past the deadline: one more poll
    expect(exact.polls).toEqual([50, 150]);
  });
});

describe("Waiter.eni", () => {
  test("polls at once, then backs off doubling up to the cap, until the ENI is as wanted", async () => {
    const e = waiter(["ATTACHING", "ATTACHING", "ATTACHING", "ATTACHING", "AVAILABLE"], { maxPollMs: 300 });
    const eni = await e.w.eni("A", "eni-abcd1234", (x) => x?.state === "AVAILABLE", "AVAILABLE", "attach");
    expect(eni?.state).toBe("AVAILABLE");
    expect(e.polls).toEqual([0, 100, 300, 600, 900]);
  });

  test("at the deadline: a timeout that says what it saw and what it waited for", async () => {
    const absent = waiter([undefined], TIGHT);
    await expect(absent.w.eni("DeleteNetworkInterface", "eni-abcd1234", () => false, "deleted")).rejects.toMatchObject({
      kind: "timeout",
      message: "DeleteNetworkInterface: eni-abcd1234 is absent, not deleted, at its deadline",
    });
    expect(absent.polls).toEqual([0, 100, 300]); // 300 + 400 > 300
    const busy = waiter(["DETACHING"], TIGHT);
    await expect(busy.w.eni("A", "eni-abcd1234", () => false, "AVAILABLE", "detach")).rejects.toThrow(
      "A: eni-abcd1234 is DETACHING, not AVAILABLE, at its deadline",
    );
    expect(busy.polls).toEqual([0, 100, 300, 700]); // 700 + 400 > 800
  });
});
