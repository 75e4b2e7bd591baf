import type { Rng } from "../rng.ts";
import type { EniRec, State } from "../state.ts";
import { ApiError, notFound } from "../errors.ts";

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

export function getInstance(state: State, instanceId: string) {
  const inst = state.instances.find((i) => i.instanceId === instanceId);
  if (!inst) throw notFound("instance", instanceId, "InvalidInstanceId.NotFound");
  return inst;
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
