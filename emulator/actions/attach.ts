// AttachNetworkInterface and DetachNetworkInterface: ATTACHING / DETACHING until the task ends.
import { ApiError, required } from "../errors.ts";
import { apiTime } from "../state.ts";
import { startTask } from "../tasks.ts";
import { assertIdle, getEni, getInstance, refusePrimary, type Handler } from "./context.ts";

export const attachNetworkInterface: Handler = (ctx, p) => {
  const { state } = ctx;
  const eni = getEni(state, required(p, "NetworkInterfaceId"));
  const inst = getInstance(state, required(p, "InstanceId"));
  refusePrimary(eni, "AttachNetworkInterface");
  assertIdle(state, eni, "AttachNetworkInterface");
  if (eni.attachment)
    throw new ApiError(
      "UnsupportedOperation.AttachmentAlreadyExists",
      `${eni.eniId} is already attached to ${eni.attachment.instanceId}.`,
    );
  if (eni.state !== "AVAILABLE")
    throw new ApiError(
      "UnsupportedOperation.InvalidState",
      `${eni.eniId} is ${eni.state}; AttachNetworkInterface needs AVAILABLE.`,
    );
  if (eni.vpcId !== inst.vpcId)
    throw new ApiError(
      "UnsupportedOperation.VpcMismatch",
      `${eni.eniId} is in ${eni.vpcId}, instance ${inst.instanceId} in ${inst.vpcId}.`,
    );
  if (eni.zone !== inst.zone)
    throw new ApiError(
      "UnsupportedOperation.ZoneMismatch",
      `${eni.eniId} is in zone ${eni.zone}, instance ${inst.instanceId} in ${inst.zone}.`,
    );
  if (eni.groups.length === 0)
    throw new ApiError("UnsupportedOperation", `${eni.eniId} has no security group; an ENI needs one to be attached.`);
  const type = state.instanceTypes[inst.instanceType];
  if (!type) throw new ApiError("InternalError", `instance type ${inst.instanceType} has no quota entry`);
  const attached = Object.values(state.enis).filter((e) => e.attachment?.instanceId === inst.instanceId);
  if (attached.length >= type.eniQuota)
    throw new ApiError(
      "LimitExceeded",
      `Instance ${inst.instanceId} (${inst.instanceType}) has ${attached.length} network interfaces; its limit is ${type.eniQuota}.`,
    );
  if (eni.ips.length > type.ipsPerEni)
    throw new ApiError(
      "LimitExceeded",
      `${eni.eniId} holds ${eni.ips.length} addresses; ${inst.instanceType} allows ${type.ipsPerEni} per network interface.`,
    );
  const taken = new Set(attached.map((e) => e.attachment!.deviceIndex));
  let deviceIndex = 1;
  while (taken.has(deviceIndex)) deviceIndex++;
  eni.state = "ATTACHING";
  eni.attachment = { instanceId: inst.instanceId, deviceIndex, attachTime: apiTime(ctx.nowMs) };
  startTask(state, {
    taskId: ctx.requestId,
    action: "AttachNetworkInterface",
    eniId: eni.eniId,
    instanceId: inst.instanceId,
    doneAt: ctx.nowMs + state.settings.asyncMs.attach,
  });
  return {};
};

export const detachNetworkInterface: Handler = (ctx, p) => {
  const { state } = ctx;
  const eni = getEni(state, required(p, "NetworkInterfaceId"));
  const inst = getInstance(state, required(p, "InstanceId"));
  refusePrimary(eni, "DetachNetworkInterface");
  assertIdle(state, eni, "DetachNetworkInterface");
  // Detach lists no UnsupportedOperation.AttachmentNotFound (only Unassign does): InvalidState.
  if (eni.attachment?.instanceId !== inst.instanceId) {
    throw new ApiError(
      "UnsupportedOperation.InvalidState",
      `${eni.eniId} is not attached to ${inst.instanceId}${eni.attachment ? ` (it is attached to ${eni.attachment.instanceId})` : ""}.`,
    );
  }
  eni.state = "DETACHING";
  startTask(state, {
    taskId: ctx.requestId,
    action: "DetachNetworkInterface",
    eniId: eni.eniId,
    instanceId: inst.instanceId,
    doneAt: ctx.nowMs + state.settings.asyncMs.detach,
  });
  return {};
};
