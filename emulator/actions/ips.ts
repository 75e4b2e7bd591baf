// AssignPrivateIpAddresses and UnassignPrivateIpAddresses on one ENI.
import { ipToInt, isUsable, parseCidr } from "../cidr.ts";
import { ApiError, int, list, required } from "../errors.ts";
import { allocate, usedIps } from "../ipam.ts";
import { assertNoRunningTask, startTask } from "../tasks.ts";
import { getEni, ipLimit, type Handler } from "./context.ts";

type IpSpec = { PrivateIpAddress?: unknown; Primary?: unknown };

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
  const subnet = state.subnets.find((s) => s.subnetId === eni.subnetId)!;
  const cidr = parseCidr(subnet.cidrBlock);
  const used = usedIps(state, subnet.subnetId);
  const explicit = wanted.map((w, i) => {
    if (w?.Primary === true)
      throw new ApiError(
        "UnauthorizedOperation.PrimaryIp",
        `PrivateIpAddresses[${i}].Primary is true; AssignPrivateIpAddresses only adds secondary addresses`,
      );
    const ip = w?.PrivateIpAddress;
    let n = -1;
    try {
      n = typeof ip === "string" ? ipToInt(ip) : -1;
    } catch {}
    if (typeof ip !== "string" || !isUsable(cidr, n))
      throw new ApiError(
        "InvalidParameterValue",
        `PrivateIpAddresses[${i}].PrivateIpAddress is ${JSON.stringify(ip)}; allowed: an address of ${subnet.cidrBlock} other than network, gateway and broadcast`,
      );
    if (used.has(ip))
      throw new ApiError("ResourceInUse.Address", `PrivateIpAddresses[${i}].PrivateIpAddress ${ip} is already in use.`);
    return ip;
  });
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
  assertNoRunningTask(state, eni.eniId);
  const ips = wanted.map((w, i) => {
    const ip = w?.PrivateIpAddress;
    const rec = eni.ips.find((r) => r.ip === ip);
    if (!rec)
      throw new ApiError(
        "InvalidNetworkInterfaceId.NotFound",
        `PrivateIpAddresses[${i}].PrivateIpAddress ${JSON.stringify(ip)} is not an address of ${eni.eniId}.`,
      );
    if (rec.primary)
      throw new ApiError(
        "UnauthorizedOperation.PrimaryIp",
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
