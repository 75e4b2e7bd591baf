// Asynchronous tasks: every mutating action returns at once and completes `asyncMs` later
// (by the emulator clock). Completion is applied lazily, before each request and from a
// periodic tick, so a restarted emulator finishes the tasks its state file holds.
import { ApiError } from "./errors.ts";
import type { Fabric } from "./fabric.ts";
import type { State, TaskRec } from "./state.ts";
import { fabricEni, fabricInstance } from "./views.ts";

/** Done tasks stay queryable through DescribeVpcTaskResult this long. */
const TASK_RETENTION_MS = 3_600_000;

export function runningTaskOn(state: State, eniId: string): TaskRec | undefined {
  return Object.values(state.tasks).find((t) => t.eniId === eniId && t.status === "RUNNING");
}

/** Another task on the ENI blocks every mutation of it, as the cloud documents. */
export function assertNoRunningTask(state: State, eniId: string): void {
  const t = runningTaskOn(state, eniId);
  if (t)
    throw new ApiError(
      "UnsupportedOperation.MutexOperationTaskRunning",
      `Task ${t.taskId} (${t.action}) is still running on ${eniId}; retry when it is done.`,
    );
}

export function startTask(state: State, task: Omit<TaskRec, "status">): void {
  state.tasks[task.taskId] = { ...task, status: "RUNNING" };
}

/**
 * Completes due tasks, in order on each ENI; the ENIs' tasks run side by side, as the cloud runs
 * them (a fabric hook that takes a while on one ENI does not hold up another's). Returns whether
 * anything changed.
 */
export async function settle(
  state: State,
  nowMs: number,
  fabric: Fabric,
  log: (line: string) => void,
): Promise<boolean> {
  const due = Object.values(state.tasks)
    .filter((t) => t.status === "RUNNING" && t.doneAt <= nowMs)
    .sort((a, b) => a.doneAt - b.doneAt);
  const byEni = new Map<string, TaskRec[]>();
  for (const task of due) byEni.set(task.eniId, [...(byEni.get(task.eniId) ?? []), task]);
  await Promise.all(
    [...byEni.values()].map(async (tasks) => {
      for (const task of tasks) await finish(state, task, fabric, log);
    }),
  );
  for (const t of Object.values(state.tasks)) {
    if (t.status !== "RUNNING" && t.doneAt < nowMs - TASK_RETENTION_MS) delete state.tasks[t.taskId];
  }
  return due.length > 0;
}

async function finish(state: State, task: TaskRec, fabric: Fabric, log: (line: string) => void): Promise<void> {
  if (task.fail) {
    undo(state, task);
    task.status = "FAILED";
    task.output = `${task.action} on ${task.eniId} failed (injected task failure); nothing changed`;
    return;
  }
  try {
    await complete(state, task, fabric);
  } catch (e) {
    log(`fabric hook for ${task.action} on ${task.eniId} failed: ${(e as Error).message}`);
  }
  task.status = "SUCCESS";
}

/** A failed task leaves the ENI as it was before the call. */
function undo(state: State, task: TaskRec): void {
  const eni = state.enis[task.eniId];
  if (!eni) return;
  const ips = new Set(task.ips ?? []);
  switch (task.action) {
    case "CreateNetworkInterface":
      delete state.enis[eni.eniId];
      return;
    case "AttachNetworkInterface":
      delete eni.attachment;
      eni.state = "AVAILABLE";
      return;
    case "DetachNetworkInterface":
    case "DeleteNetworkInterface":
      eni.state = "AVAILABLE";
      return;
    case "AssignPrivateIpAddresses":
      eni.ips = eni.ips.filter((ip) => !ips.has(ip.ip));
      return;
    case "UnassignPrivateIpAddresses":
      for (const ip of eni.ips) if (ips.has(ip.ip)) ip.state = "AVAILABLE";
      return;
  }
}

async function complete(state: State, task: TaskRec, fabric: Fabric): Promise<void> {
  const eni = state.enis[task.eniId];
  if (!eni) return;
  const instance = state.instances.find((i) => i.instanceId === (task.instanceId ?? eni.attachment?.instanceId));
  switch (task.action) {
    case "CreateNetworkInterface":
      eni.state = "AVAILABLE";
      for (const ip of eni.ips) ip.state = "AVAILABLE";
      return;
    case "AttachNetworkInterface":
      eni.state = "AVAILABLE";
      if (instance) await fabric.onAttach(fabricEni(state, eni), fabricInstance(state, instance));
      return;
    case "DetachNetworkInterface": {
      const view = fabricEni(state, eni);
      eni.state = "AVAILABLE";
      delete eni.attachment;
      if (instance) await fabric.onDetach(view, fabricInstance(state, instance));
      return;
    }
    case "DeleteNetworkInterface":
      delete state.enis[eni.eniId];
      return;
    case "AssignPrivateIpAddresses": {
      const ips = new Set(task.ips ?? []);
      for (const ip of eni.ips) if (ips.has(ip.ip)) ip.state = "AVAILABLE";
      await fabric.onAssign(fabricEni(state, eni), [...ips]);
      return;
    }
    case "UnassignPrivateIpAddresses": {
      const ips = new Set(task.ips ?? []);
      eni.ips = eni.ips.filter((ip) => !ips.has(ip.ip));
      await fabric.onUnassign(fabricEni(state, eni), [...ips]);
      return;
    }
  }
}
