// Waiting for asynchronous results: first the task (DescribeVpcTaskResult), then Describe
// until it shows the expected state, because Describe may lag behind the task (eventual
// consistency); a caller that can go by the task alone uses task()'s answer (docs/cloud.md).
// A task is first polled when it is expected to be done (a task is never done the moment its
// call returns), then polls back off from pollMs to maxPollMs; each wait has a deadline.
import type { Clock } from "./clock.ts";
import { CloudError } from "./errors.ts";
import type { Eni } from "./types.ts";

export interface WaitOptions {
  /** Deadline of an attach, ms (attaching takes seconds on CVM). */
  attachMs: number;
  detachMs: number;
  /** Deadline of any other wait, ms. */
  defaultMs: number;
  /**
   * First task poll, ms after the call returned: about the time the task is expected to take.
   * Too early costs a poll that finds it RUNNING; too late, the overshoot is added to the call.
   */
  firstPollMs: { attach: number; detach: number; default: number };
  pollMs: number;
  maxPollMs: number;
}

export const DEFAULT_WAITS: WaitOptions = {
  attachMs: 120_000,
  detachMs: 120_000,
  defaultMs: 60_000,
  firstPollMs: { attach: 500, detach: 300, default: 50 },
  pollMs: 100,
  maxPollMs: 2_000,
};

/** What callers may set: any field, and any task kind's first poll. */
export type WaitOptionsInput = Partial<Omit<WaitOptions, "firstPollMs">> & {
  firstPollMs?: Partial<WaitOptions["firstPollMs"]>;
};

export class Waiter {
  private readonly o: WaitOptions;

  constructor(
    private readonly deps: {
      clock: Clock;
      options?: WaitOptionsInput;
      taskStatus: (taskId: string) => Promise<string | undefined>;
      getEni: (eniId: string) => Promise<Eni | undefined>;
    },
  ) {
    this.o = {
      ...DEFAULT_WAITS,
      ...deps.options,
      firstPollMs: { ...DEFAULT_WAITS.firstPollMs, ...deps.options?.firstPollMs },
    };
  }

  private deadline(kind: "attach" | "detach" | "default"): number {
    return (
      this.deps.clock.now() +
      (kind === "attach" ? this.o.attachMs : kind === "detach" ? this.o.detachMs : this.o.defaultMs)
    );
  }

  /**
   * Until the task leaves RUNNING; true once it read SUCCESS. An unknown task (not queryable)
   * is left to the Describe wait (false).
   */
  async task(
    action: string,
    taskId: string | undefined,
    kind: "attach" | "detach" | "default" = "default",
  ): Promise<boolean> {
    if (!taskId) return false;
    const until = this.deadline(kind);
    await this.deps.clock.sleep(Math.min(this.o.firstPollMs[kind], Math.max(0, until - this.deps.clock.now())));
    for (let poll = this.o.pollMs; ; poll = Math.min(this.o.maxPollMs, poll * 2)) {
      const status = await this.deps.taskStatus(taskId);
      if (status === undefined || status === "SUCCESS") return status === "SUCCESS";
      // The cloud undid the call; a new attempt (with a new ClientToken: the old one replays the failure) may work.
      if (status === "FAILED")
        throw new CloudError(
          "transient",
          action,
          `${action}: task ${taskId} FAILED`,
          "FailedOperation.TaskFailed",
          taskId,
        );
      if (this.deps.clock.now() + poll > until)
        throw new CloudError(
          "timeout",
          action,
          `${action}: task ${taskId} still ${status} at its deadline`,
          undefined,
          taskId,
        );
      await this.deps.clock.sleep(poll);
    }
  }

  /** Until Describe shows the ENI as `ok` wants; returns what it showed last. */
  async eni(
    action: string,
    eniId: string,
    ok: (e: Eni | undefined) => boolean,
    what: string,
    kind: "attach" | "detach" | "default" = "default",
  ): Promise<Eni | undefined> {
    const until = this.deadline(kind);
    for (let poll = this.o.pollMs; ; poll = Math.min(this.o.maxPollMs, poll * 2)) {
      const eni = await this.deps.getEni(eniId);
      if (ok(eni)) return eni;
      if (this.deps.clock.now() + poll > until) {
        throw new CloudError(
          "timeout",
          action,
          `${action}: ${eniId} is ${eni ? eni.state : "absent"}, not ${what}, at its deadline`,
        );
      }
      await this.deps.clock.sleep(poll);
    }
  }
}
