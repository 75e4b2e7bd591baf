// AssignPrivateIpAddresses and UnassignPrivateIpAddresses on one ENI.
import { ApiError, int, list, required } from "../errors.ts";
import { allocate, usedIps } from "../ipam.ts";
import { assertNoRunningTask, startTask } from "../tasks.ts";
import { canonicalIp, type IpSpec, refuseRepeats, refuseUsed, wantedAddress } from "./addresses.ts";
import { getEni, ipLimit, type Handler } from "./context.ts";

export const assignPrivateIpAddresses: Handler = (ctx, p) => {
  const { state } = ctx;
  const eni = getEni(state, required(p, "NetworkInterfaceId"));
  const max = state.settings.maxIpsPerCall;
  const wanted = list<IpSpec>(p, "PrivateIpAddresses", max) ?? [];
  const count = int(p, "SecondaryPrivateIpAddressCount", 1, max) ?? 0;
  if (wanted.length + count === 0)
    throw new ApiError("MissingParameter", "The request needs PrivateIpAddresses or SecondaryPrivateIpAddressCount.");
  if (wanted.length + count > max)
    throw new ApiError(
      "InvalidParameterValue.LimitExceeded",
      `The request asks for ${wanted.length + count} addresses; allowed: at most ${max} per call`,
    );
  const subnet = state.subnets.find((s) => s.subnetId === eni.subnetId)!;
  const explicit = wanted.map((w, i) => {
    // Assign lists no UnauthorizedOperation.PrimaryIp; UnsupportedOperation is the code it has.
    if (w?.Primary === true)
      throw new ApiError(
        "UnsupportedOperation",
        `PrivateIpAddresses[${i}].Primary is true; AssignPrivateIpAddresses only adds secondary addresses`,
      );
    return wantedAddress(subnet, w, i);
  });
  refuseRepeats(explicit, "InvalidParameterValue.DuplicatePara");
  assertNoRunningTask(state, eni.eniId);
  if (eni.state !== "AVAILABLE")
    throw new ApiError(
      "UnsupportedOperation.InvalidState",
      `${eni.eniId} is ${eni.state}; AssignPrivateIpAddresses needs AVAILABLE.`,
    );
  const limit = ipLimit(state, eni);
  if (eni.ips.length + wanted.length + count > limit) {
    throw new ApiError(
      "LimitExceeded",
      `${eni.eniId} holds ${eni.ips.length} addresses and may hold ${limit}; the request adds ${wanted.length + count}.`,
    );
  }
  refuseUsed(explicit, usedIps(state, subnet.subnetId));
  const auto = allocate(state, subnet, count, explicit);
  if (!auto)
    throw new ApiError(
      "ResourceInsufficient.Subnet",
      `Subnet ${subnet.subnetId} (${subnet.cidrBlock}) has fewer than ${count} free addresses.`,
    );
  const ips = [...explicit, ...auto];
  for (const ip of ips) eni.ips.push({ ip, primary: false, state: "PENDING" });
  startTask(state, {
    taskId: ctx.requestId,
    action: "AssignPrivateIpAddresses",
    eniId: eni.eniId,
    ips,
    doneAt: ctx.nowMs + state.settings.asyncMs.assign,
  });
  return { PrivateIpAddressSet: ips.map((ip) => ({ PrivateIpAddress: ip, Primary: false, State: "PENDING" })) };
};

export const unassignPrivateIpAddresses: Handler = (ctx, p) => {
  const { state } = ctx;
  const eni = getEni(state, required(p, "NetworkInterfaceId"));
  const wanted = list<IpSpec>(p, "PrivateIpAddresses", state.settings.maxIpsPerCall);
  if (!wanted || wanted.length === 0)
    throw new ApiError("MissingParameter", "The request is missing a required parameter `PrivateIpAddresses`.");
  const addresses = wanted.map((w, i) => {
    const ip = canonicalIp(w?.PrivateIpAddress);
    if (ip === undefined)
      throw new ApiError(
        "InvalidParameterValue.Malformed",
        `PrivateIpAddresses[${i}].PrivateIpAddress is ${JSON.stringify(w?.PrivateIpAddress)}; allowed: an IPv4 address such as 10.0.0.5`,
      );
    return ip;
  });
  refuseRepeats(addresses, "InvalidParameterValue.DuplicatePara");
  assertNoRunningTask(state, eni.eniId);
  // Unassign lists neither InvalidNetworkInterfaceId.NotFound nor UnauthorizedOperation.PrimaryIp:
  // ResourceNotFound and UnsupportedOperation are the codes it has for these.
  const ips = addresses.map((ip, i) => {
    const rec = eni.ips.find((r) => r.ip === ip);
    if (!rec)
      throw new ApiError(
        "ResourceNotFound",
        `PrivateIpAddresses[${i}].PrivateIpAddress ${ip} is not an address of ${eni.eniId}.`,
      );
    if (rec.primary)
      throw new ApiError(
        "UnsupportedOperation",
        `PrivateIpAddresses[${i}].PrivateIpAddress ${rec.ip} is the primary address of ${eni.eniId}; it cannot be unassigned`,
      );
    return rec;
  });
  for (const rec of ips) rec.state = "DELETING";
  startTask(state, {
    taskId: ctx.requestId,
    action: "UnassignPrivateIpAddresses",
    eniId: eni.eniId,
    ips: ips.map((r) => r.ip),
    doneAt: ctx.nowMs + state.settings.asyncMs.unassign,
  });
  return {};
};
