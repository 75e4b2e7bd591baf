// API shapes of the state (NetworkInterface, Subnet) and the Filters of the Describe actions.
import { gateway, parseCidr, usableCount } from "./cidr.ts";
import { ApiError } from "./errors.ts";
import type { FabricEni, FabricInstance } from "./fabric.ts";
import type { EniRec, InstanceRec, State, SubnetRec } from "./state.ts";

const tagSet = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

export function eniView(eni: EniRec): Record<string, unknown> {
  return {
    NetworkInterfaceId: eni.eniId,
    NetworkInterfaceName: eni.name,
    NetworkInterfaceDescription: eni.description,
    SubnetId: eni.subnetId,
    VpcId: eni.vpcId,
    GroupSet: [...eni.groups],
    Primary: eni.primary,
    MacAddress: eni.mac,
    State: eni.state,
    PrivateIpAddressSet: eni.ips.map((ip) => ({
      PrivateIpAddress: ip.ip,
      Primary: ip.primary,
      State: ip.state,
      PublicIpAddress: "",
      AddressId: "",
      Description: "",
      IsWanIpBlocked: false,
      QosLevel: "",
    })),
    ...(eni.attachment
      ? {
          Attachment: {
            InstanceId: eni.attachment.instanceId,
            DeviceIndex: eni.attachment.deviceIndex,
            AttachTime: eni.attachment.attachTime,
            InstanceAccountId: "",
          },
        }
      : {}),
    Zone: eni.zone,
    CreatedTime: eni.createdTime,
    TagSet: tagSet(eni.tags),
    EniType: 0,
    AttachType: 0,
  };
}

export function subnetView(subnet: SubnetRec, enis: Record<string, EniRec>): Record<string, unknown> {
  let used = 0;
  for (const eni of Object.values(enis)) if (eni.subnetId === subnet.subnetId) used += eni.ips.length;
  const total = usableCount(parseCidr(subnet.cidrBlock));
  return {
    VpcId: subnet.vpcId,
    SubnetId: subnet.subnetId,
    SubnetName: subnet.name,
    CidrBlock: subnet.cidrBlock,
    IsDefault: false,
    EnableBroadcast: false,
    Zone: subnet.zone,
    AvailableIpAddressCount: total - used,
    TotalIpAddressCount: total,
    TagSet: tagSet(subnet.tags),
  };
}

export interface Filter {
  Name: string;
  Values: string[];
}

export function readFilters(raw: unknown[] | undefined, allowed: readonly string[]): Filter[] {
  return (raw ?? []).map((f, i) => {
    const { Name, Values } = (f ?? {}) as { Name?: unknown; Values?: unknown };
    if (typeof Name !== "string" || !(allowed.includes(Name) || Name.startsWith("tag:"))) {
      throw new ApiError(
        "InvalidParameter.FilterInvalidKey",
        `Filters[${i}].Name is ${JSON.stringify(Name)}; allowed: ${allowed.join(", ")}, tag:<key>`,
      );
    }
    if (!Array.isArray(Values) || Values.length === 0 || Values.some((v) => typeof v !== "string")) {
      throw new ApiError(
        "InvalidParameter.FilterValuesNotList",
        `Filters[${i}].Values is ${JSON.stringify(Values)}; allowed: a non-empty list of strings`,
      );
    }
    return { Name, Values: Values as string[] };
  });
}

export const ENI_FILTERS = [
  "vpc-id",
  "subnet-id",
  "attachment.instance-id",
  "network-interface-id",
  "address-ip",
  "is-primary",
  "network-interface-name",
] as const;
export const SUBNET_FILTERS = ["vpc-id", "subnet-id", "zone", "subnet-name", "cidr-block"] as const;

/** Filters AND across names, OR within the values of one name (the documented rule). */
export function eniMatches(eni: EniRec, filters: Filter[]): boolean {
  return filters.every((f) => {
    const values = eniField(eni, f.Name);
    return f.Values.some((v) => values.includes(v));
  });
}

function eniField(eni: EniRec, name: string): string[] {
  if (name.startsWith("tag:")) {
    const v = eni.tags[name.slice(4)];
    return v === undefined ? [] : [v];
  }
  switch (name) {
    case "vpc-id":
      return [eni.vpcId];
    case "subnet-id":
      return [eni.subnetId];
    case "attachment.instance-id":
      return eni.attachment ? [eni.attachment.instanceId] : [];
    case "network-interface-id":
      return [eni.eniId];
    case "network-interface-name":
      return [eni.name];
    case "address-ip":
      return eni.ips.map((i) => i.ip);
    case "is-primary":
      return [String(eni.primary)];
    default:
      return [];
  }
}

export function subnetMatches(subnet: SubnetRec, filters: Filter[]): boolean {
  return filters.every((f) => {
    let values: string[];
    if (f.Name.startsWith("tag:")) {
      const v = subnet.tags[f.Name.slice(4)];
      values = v === undefined ? [] : [v];
    } else {
      values =
        {
          "vpc-id": [subnet.vpcId],
          "subnet-id": [subnet.subnetId],
          zone: [subnet.zone],
          "subnet-name": [subnet.name],
          "cidr-block": [subnet.cidrBlock],
        }[f.Name] ?? [];
    }
    return f.Values.some((v) => values.includes(v));
  });
}

export function fabricEni(state: State, eni: EniRec): FabricEni {
  const subnet = state.subnets.find((s) => s.subnetId === eni.subnetId);
  const cidr = subnet?.cidrBlock ?? "0.0.0.0/32";
  return {
    eniId: eni.eniId,
    mac: eni.mac,
    vpcId: eni.vpcId,
    subnetId: eni.subnetId,
    cidrBlock: cidr,
    gateway: subnet ? gateway(parseCidr(cidr)) : "",
    primaryIp: eni.ips.find((i) => i.primary)?.ip ?? "",
    secondaryIps: eni.ips.filter((i) => !i.primary && i.state === "AVAILABLE").map((i) => i.ip),
    ...(eni.attachment ? { deviceIndex: eni.attachment.deviceIndex } : {}),
  };
}

export function fabricInstance(state: State, inst: InstanceRec): FabricInstance {
  const primary = state.enis[inst.primaryEniId];
  return {
    instanceId: inst.instanceId,
    zone: inst.zone,
    primaryIp: primary?.ips.find((i) => i.primary)?.ip ?? "",
    primaryMac: primary?.mac ?? "",
  };
}
