// SDK models -> the runtime's types. Fields the cloud leaves out become explicit defaults here,
// so the rest of the runtime never deals with optional API fields; addresses, CIDRs, MACs and
// IDs are checked here (answers.ts), so nothing malformed gets past this boundary.
import type {
  NetworkInterface,
  Subnet as SdkSubnet,
} from "tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models";
import { checked, checkedCount } from "./answers.ts";
import type { Eni, EniState, Subnet } from "./types.ts";

const STATES: ReadonlySet<string> = new Set(["PENDING", "AVAILABLE", "ATTACHING", "DETACHING", "DELETING"]);

/** `at` names the ENI in the answer for error messages, e.g. NetworkInterfaceSet[3]. */
export function toEni(n: NetworkInterface, action: string, at: string): Eni {
  const ips = (n.PrivateIpAddressSet ?? []).map((i, k) => ({
    ip: checked(action, `${at}.PrivateIpAddressSet[${k}].PrivateIpAddress`, i.PrivateIpAddress, "ipv4"),
    primary: i.Primary === true,
    state: i.State ?? "AVAILABLE",
  }));
  const state = STATES.has(n.State ?? "") ? (n.State as EniState) : "PENDING";
  const att = n.Attachment;
  return {
    id: checked(action, `${at}.NetworkInterfaceId`, n.NetworkInterfaceId, "eniId"),
    vpcId: checked(action, `${at}.VpcId`, n.VpcId, "vpcId"),
    subnetId: checked(action, `${at}.SubnetId`, n.SubnetId, "subnetId"),
    zone: checked(action, `${at}.Zone`, n.Zone, "zone"),
    mac: checked(action, `${at}.MacAddress`, n.MacAddress, "mac").toLowerCase(),
    primary: n.Primary === true,
    state,
    primaryIp: ips.find((i) => i.primary)?.ip ?? "",
    secondaryIps: ips.filter((i) => !i.primary).map((i) => i.ip),
    ips,
    securityGroupIds: (n.GroupSet ?? []).map((g, k) => checked(action, `${at}.GroupSet[${k}]`, g, "securityGroupId")),
    ...(att?.InstanceId
      ? {
          attachment: {
            instanceId: checked(action, `${at}.Attachment.InstanceId`, att.InstanceId, "instanceId"),
            deviceIndex: checkedCount(action, `${at}.Attachment.DeviceIndex`, att.DeviceIndex ?? 0),
          },
        }
      : {}),
    tags: Object.fromEntries((n.TagSet ?? []).map((t) => [t.Key, t.Value ?? ""])),
    createdTime: n.CreatedTime ?? "",
  };
}

export function toSubnet(s: SdkSubnet, action: string, at: string): Subnet {
  return {
    id: checked(action, `${at}.SubnetId`, s.SubnetId, "subnetId"),
    vpcId: checked(action, `${at}.VpcId`, s.VpcId, "vpcId"),
    cidr: checked(action, `${at}.CidrBlock`, s.CidrBlock, "cidr"),
    zone: checked(action, `${at}.Zone`, s.Zone, "zone"),
    availableIps: checkedCount(action, `${at}.AvailableIpAddressCount`, s.AvailableIpAddressCount ?? 0),
    totalIps: checkedCount(action, `${at}.TotalIpAddressCount`, s.TotalIpAddressCount ?? 0),
  };
}
