// CreateNetworkInterface and DeleteNetworkInterface.
import { ipToInt, isUsable, parseCidr } from "../cidr.ts";
import { ApiError, int, list, notFound, required, str, strList } from "../errors.ts";
import { allocate, usedIps } from "../ipam.ts";
import { apiTime, type EniRec } from "../state.ts";
import { assertNoRunningTask, startTask } from "../tasks.ts";
import { eniView } from "../views.ts";
import { getEni, refusePrimary, type Handler } from "./context.ts";

export const createNetworkInterface: Handler = (ctx, p) => {
  const { state } = ctx;
  const vpcId = required(p, "VpcId");
  const subnetId = required(p, "SubnetId");
  const name = required(p, "NetworkInterfaceName");
  if (!state.vpcs.some((v) => v.vpcId === vpcId)) throw notFound("VPC", vpcId, "InvalidVpcId.NotFound");
  const subnet = state.subnets.find((s) => s.subnetId === subnetId);
  if (!subnet) throw notFound("subnet", subnetId);
  if (subnet.vpcId !== vpcId)
    throw new ApiError(
      "InvalidParameterValue",
      `SubnetId '${subnetId}' belongs to ${subnet.vpcId}, not to VpcId '${vpcId}'.`,
    );
  const groups = strList(p, "SecurityGroupIds", 5) ?? [];
  for (const g of groups)
    if (!state.securityGroups.includes(g)) throw notFound("security group", g, "InvalidSecurityGroupID.NotFound");
  const secondary = int(p, "SecondaryPrivateIpAddressCount", 0, state.settings.maxIpsPerCall) ?? 0;
  const wanted = list<{ PrivateIpAddress?: unknown; Primary?: unknown }>(p, "PrivateIpAddresses", 10) ?? [];
  const owned = Object.values(state.enis).filter((e) => !e.primary).length;
  if (owned >= state.settings.maxEnis)
    throw new ApiError(
      "LimitExceeded.NetworkInterfaceLimitExceeded",
      `The account owns ${owned} network interfaces; the limit is ${state.settings.maxEnis}.`,
    );
  const used = usedIps(state, subnetId);
  const cidr = parseCidr(subnet.cidrBlock);
  const explicit = wanted.map((w, i) => {
    const ip = w?.PrivateIpAddress;
    if (typeof ip !== "string" || !isUsable(cidr, safeIp(ip)))
      throw new ApiError(
        "InvalidParameterValue",
        `PrivateIpAddresses[${i}].PrivateIpAddress is ${JSON.stringify(ip)}; allowed: a free address of ${subnet.cidrBlock} other than network, gateway and broadcast`,
      );
    if (used.has(ip))
      throw new ApiError("ResourceInUse.Address", `PrivateIpAddresses[${i}].PrivateIpAddress ${ip} is already in use.`);
    return { ip, primary: w.Primary === true };
  });
  if (explicit.filter((e) => e.primary).length > 1)
    throw new ApiError(
      "InvalidParameterValue",
      "PrivateIpAddresses marks more than one address Primary; allowed: at most one",
    );
  const total =
    Math.max(explicit.length, 1) + secondary + (explicit.some((e) => e.primary) || explicit.length === 0 ? 0 : 1);
  if (total > state.settings.unattachedEniIpLimit)
    throw new ApiError(
      "LimitExceeded",
      `A network interface may hold ${state.settings.unattachedEniIpLimit} addresses; this request asks for ${total}.`,
    );
  const auto = allocate(
    state,
    subnet,
    total - explicit.length,
    explicit.map((e) => e.ip),
  );
  if (!auto)
    throw new ApiError(
      "ResourceInsufficient.Subnet",
      `Subnet ${subnetId} (${subnet.cidrBlock}) has fewer than ${total - explicit.length} free addresses.`,
    );
  const ips = [...explicit];
  if (!ips.some((e) => e.primary)) ips.unshift({ ip: auto.shift()!, primary: true });
  for (const ip of auto) ips.push({ ip, primary: false });
  const eniId = newEniId(ctx);
  const tags = Object.fromEntries(
    (list<{ Key?: unknown; Value?: unknown }>(p, "Tags", 50) ?? []).map((t, i) => {
      if (typeof t?.Key !== "string" || t.Key === "")
        throw new ApiError(
          "InvalidParameterValue",
          `Tags[${i}].Key is ${JSON.stringify(t?.Key)}; allowed: a non-empty string`,
        );
      return [t.Key, typeof t.Value === "string" ? t.Value : ""];
    }),
  );
  const eni: EniRec = {
    eniId,
    name,
    description: str(p, "NetworkInterfaceDescription") ?? "",
    vpcId,
    subnetId,
    zone: subnet.zone,
    mac: ctx.rng.mac(),
    primary: false,
    state: "PENDING",
    ips: ips.map((e) => ({ ip: e.ip, primary: e.primary, state: "PENDING" })),
    groups,
    tags,
    createdTime: apiTime(ctx.nowMs),
  };
  state.enis[eniId] = eni;
  startTask(state, {
    taskId: ctx.requestId,
    action: "CreateNetworkInterface",
    eniId,
    doneAt: ctx.nowMs + state.settings.asyncMs.create,
  });
  return { NetworkInterface: eniView(eni) };
};

export const deleteNetworkInterface: Handler = (ctx, p) => {
  const { state } = ctx;
  const eni = getEni(state, required(p, "NetworkInterfaceId"));
  refusePrimary(eni, "DeleteNetworkInterface");
  assertNoRunningTask(state, eni.eniId);
  if (eni.attachment)
    throw new ApiError("ResourceInUse", `${eni.eniId} is attached to ${eni.attachment.instanceId}; detach it first.`);
  if (eni.state !== "AVAILABLE")
    throw new ApiError(
      "UnsupportedOperation.InvalidState",
      `${eni.eniId} is ${eni.state}; DeleteNetworkInterface needs AVAILABLE.`,
    );
  eni.state = "DELETING";
  startTask(state, {
    taskId: ctx.requestId,
    action: "DeleteNetworkInterface",
    eniId: eni.eniId,
    doneAt: ctx.nowMs + state.settings.asyncMs.delete,
  });
  return {};
};

function safeIp(ip: string): number {
  try {
    return ipToInt(ip);
  } catch {
    return -1;
  }
}

function newEniId(ctx: { rng: { id(p: string): string }; state: { enis: Record<string, unknown> } }): string {
  for (;;) {
    const id = ctx.rng.id("eni");
    if (!ctx.state.enis[id]) return id;
  }
}
