// SDK models -> the runtime's types. Fields the cloud leaves out become explicit defaults here,
// so the rest of the runtime never deals with optional API fields.
import type {
  NetworkInterface,
  Subnet as SdkSubnet,
} from "tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models";
import type { Eni, EniState, Subnet } from "./types.ts";

const STATES: ReadonlySet<string> = new Set(["PENDING", "AVAILABLE", "ATTACHING", "DETACHING", "DELETING"]);

export function toEni(n: NetworkInterface): Eni {
  const ips = (n.PrivateIpAddressSet ?? []).map((i) => ({
    ip: i.PrivateIpAddress ?? "",
    primary: i.Primary === true,
    state: i.State ?? "AVAILABLE",
  }));
  const state = STATES.has(n.State ?? "") ? (n.State as EniState) : "PENDING";
  const att = n.Attachment;
  return {
    id: n.NetworkInterfaceId ?? "",
    vpcId: n.VpcId ?? "",
    subnetId: n.SubnetId ?? "",
    zone: n.Zone ?? "",
    mac: (n.MacAddress ?? "").toLowerCase(),
    primary: n.Primary === true,
    state,
    primaryIp: ips.find((i) => i.primary)?.ip ?? "",
    secondaryIps: ips.filter((i) => !i.primary).map((i) => i.ip),
    ips,
    securityGroupIds: n.GroupSet ?? [],
    ...(att?.InstanceId ? { attachment: { instanceId: att.InstanceId, deviceIndex: att.DeviceIndex ?? 0 } } : {}),
    tags: Object.fromEntries((n.TagSet ?? []).map((t) => [t.Key, t.Value ?? ""])),
    createdTime: n.CreatedTime ?? "",
  };
}

export function toSubnet(s: SdkSubnet): Subnet {
  return {
    id: s.SubnetId ?? "",
    vpcId: s.VpcId ?? "",
    cidr: s.CidrBlock ?? "",
    zone: s.Zone ?? "",
    availableIps: s.AvailableIpAddressCount ?? 0,
    totalIps: s.TotalIpAddressCount ?? 0,
  };
}
