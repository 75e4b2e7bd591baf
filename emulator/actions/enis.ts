// CreateNetworkInterface and DeleteNetworkInterface.
import { ApiError, int, list, notFound, required, str, strList } from "../errors.ts";
import { allocate, usedIps } from "../ipam.ts";
import { apiTime, type EniRec } from "../state.ts";
import { startTask } from "../tasks.ts";
import { eniView } from "../views.ts";
import { type IpSpec, refuseRepeats, refuseUsed, wantedAddress } from "./addresses.ts";
import { assertIdle, getEni, refusePrimary, type Handler } from "./context.ts";

/** The reference: NetworkInterfaceName "最大长度不能超过60个字节", the description "不得超过60个字符". */
const NAME_MAX_BYTES = 60;
const DESCRIPTION_MAX_CHARS = 60;

export const createNetworkInterface: Handler = (ctx, p) => {
  const { state } = ctx;
  const vpcId = required(p, "VpcId");
  const subnetId = required(p, "SubnetId");
  const name = required(p, "NetworkInterfaceName");
  const nameBytes = Buffer.byteLength(name, "utf8");
  if (nameBytes > NAME_MAX_BYTES)
    throw new ApiError(
      "InvalidParameterValue.TooLong",
      `NetworkInterfaceName ${JSON.stringify(name)} is ${nameBytes} bytes long; allowed: at most ${NAME_MAX_BYTES} bytes (UTF-8)`,
    );
  const description = str(p, "NetworkInterfaceDescription") ?? "";
  if ([...description].length > DESCRIPTION_MAX_CHARS)
    throw new ApiError(
      "InvalidParameterValue.TooLong",
      `NetworkInterfaceDescription is ${[...description].length} characters long; allowed: at most ${DESCRIPTION_MAX_CHARS}`,
    );
  // Create lists no InvalidVpcId.NotFound or InvalidSecurityGroupID.NotFound: ResourceNotFound.
  if (!state.vpcs.some((v) => v.vpcId === vpcId)) throw notFound("VPC", vpcId);
  const subnet = state.subnets.find((s) => s.subnetId === subnetId);
  if (!subnet) throw notFound("subnet", subnetId);
  if (subnet.vpcId !== vpcId)
    throw new ApiError(
      "InvalidParameterValue",
      `SubnetId '${subnetId}' belongs to ${subnet.vpcId}, not to VpcId '${vpcId}'.`,
    );
  const groups = strList(p, "SecurityGroupIds", 5) ?? [];
  for (const g of groups) if (!state.securityGroups.includes(g)) throw notFound("security group", g);
  const secondary = int(p, "SecondaryPrivateIpAddressCount", 0, state.settings.maxIpsPerCall) ?? 0;
  const wanted = list<IpSpec>(p, "PrivateIpAddresses", 10) ?? [];
  const explicit = wanted.map((w, i) => ({ ip: wantedAddress(subnet, w, i), primary: w?.Primary === true }));
  // Create does not list InvalidParameterValue.DuplicatePara (Assign and Unassign do): the
  // generic InvalidParameterValue it lists stands for a repeated address here.
  refuseRepeats(
    explicit.map((e) => e.ip),
    "InvalidParameterValue",
  );
  const owned = Object.values(state.enis).filter((e) => !e.primary).length;
  if (owned >= state.settings.maxEnis)
    throw new ApiError(
      "LimitExceeded.NetworkInterfaceLimitExceeded",
      `The account owns ${owned} network interfaces; the limit is ${state.settings.maxEnis}.`,
    );
  refuseUsed(
    explicit.map((e) => e.ip),
    usedIps(state, subnetId),
  );
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
    description,
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
  assertIdle(state, eni, "DeleteNetworkInterface");
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

function newEniId(ctx: { rng: { id(p: string): string }; state: { enis: Record<string, unknown> } }): string {
  for (;;) {
    const id = ctx.rng.id("eni");
    if (!ctx.state.enis[id]) return id;
  }
}
