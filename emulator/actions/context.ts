import type { Rng } from "../rng.ts";
import type { EniRec, State } from "../state.ts";
import { ApiError, notFound } from "../errors.ts";
import { runningTaskOn } from "../tasks.ts";

export interface ActionCtx {
  state: State;
  rng: Rng;
  nowMs: number;
  /** Also the TaskId of the task a mutating action starts. */
  requestId: string;
  /** ENIs as Describe actions see them: the live map, or a stale snapshot. */
  view: Record<string, EniRec>;
}

export type Handler = (ctx: ActionCtx, params: Record<string, unknown>) => Record<string, unknown>;

export function getEni(state: State, eniId: string): EniRec {
  const eni = state.enis[eniId];
  if (!eni) throw notFound("network interface", eniId);
  return eni;
}

/**
 * Attach and Detach document ResourceNotFound for an unknown instance;
 * DescribeNetworkInterfaceLimit documents InvalidInstanceId.NotFound and passes it as `code`.
 */
export function getInstance(state: State, instanceId: string, code = "ResourceNotFound") {
  const inst = state.instances.find((i) => i.instanceId === instanceId);
  if (!inst) throw notFound("instance", instanceId, code);
  return inst;
}

/**
 * Attach, Detach and Delete list UnsupportedOperation.InvalidState, not
 * MutexOperationTaskRunning (which only Assign and Unassign list), for an ENI a task runs on.
 */
export function assertIdle(state: State, eni: EniRec, action: string): void {
  const t = runningTaskOn(state, eni.eniId);
  if (t)
    throw new ApiError(
      "UnsupportedOperation.InvalidState",
      `${eni.eniId} is ${eni.state}: task ${t.taskId} (${t.action}) is still running on it; ${action} needs it done.`,
    );
}

/** The first value `key` gives twice, for InvalidParameterValue.DuplicatePara. */
export function firstRepeat<T>(
  items: readonly T[],
  key: (item: T) => unknown,
): { index: number; value: unknown } | undefined {
  const seen = new Set<unknown>();
  for (const [index, item] of items.entries()) {
    const value = key(item);
    if (seen.has(value)) return { index, value };
    seen.add(value);
  }
  return undefined;
}

export function refusePrimary(eni: EniRec, action: string): void {
  if (eni.primary)
    throw new ApiError(
      "UnsupportedOperation",
      `${eni.eniId} is a primary network interface; ${action} works on secondary ones only.`,
    );
}

/** IP limits of an ENI: the instance type's when attached (or attaching), else the unattached cap. */
export function ipLimit(state: State, eni: EniRec): number {
  const inst = eni.attachment && state.instances.find((i) => i.instanceId === eni.attachment!.instanceId);
  const type = inst ? state.instanceTypes[inst.instanceType] : undefined;
  return type ? type.ipsPerEni : state.settings.unattachedEniIpLimit;
}
