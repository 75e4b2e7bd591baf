// The SDK's models into the runtime's types, with the defaults for fields the cloud leaves out,
// and the format of every value that enters at this boundary.
import { describe, expect, test } from "bun:test";
import { checked, checkedCount, FORMATS, type FormatName } from "./answers.ts";
import { toEni, toSubnet } from "./convert.ts";

const full = {
  NetworkInterfaceId: "eni-abcd1234",
  VpcId: "vpc-abcd1234",
  SubnetId: "subnet-abcd1234",
  Zone: "ap-guangzhou-3",
  MacAddress: "20:90:6F:1A:2B:3C",
  Primary: false,
  State: "ATTACHING",
  PrivateIpAddressSet: [
    { PrivateIpAddress: "10.0.0.9", Primary: false, State: "ASSIGNING" },
    { PrivateIpAddress: "10.0.0.2", Primary: true },
    { PrivateIpAddress: "10.0.0.7" },
  ],
  GroupSet: ["sg-abcd1234"],
  Attachment: { InstanceId: "ins-abcd1234", DeviceIndex: 2 },
  TagSet: [
    { Key: "vpccni.io/node", Value: "n1" },
    { Key: "empty", Value: undefined },
  ],
  CreatedTime: "2025-03-01 11:00:00",
};
type Model = Parameters<typeof toEni>[0];

describe("toEni", () => {
  test("every field, MAC in lower case, the primary address apart, tags as a record", () => {
    expect(toEni(full as unknown as Model, "A", "S[0]")).toEqual({
      id: "eni-abcd1234",
      vpcId: "vpc-abcd1234",
      subnetId: "subnet-abcd1234",
      zone: "ap-guangzhou-3",
      mac: "20:90:6f:1a:2b:3c",
      primary: false,
      state: "ATTACHING",
      primaryIp: "10.0.0.2",
      secondaryIps: ["10.0.0.9", "10.0.0.7"],
      ips: [
        { ip: "10.0.0.9", primary: false, state: "ASSIGNING" },
        { ip: "10.0.0.2", primary: true, state: "AVAILABLE" },
        { ip: "10.0.0.7", primary: false, state: "AVAILABLE" },
      ],
      securityGroupIds: ["sg-abcd1234"],
      attachment: { instanceId: "ins-abcd1234", deviceIndex: 2 },
      tags: { "vpccni.io/node": "n1", empty: "" },
      createdTime: "2025-03-01 11:00:00",
    });
  });

  test("what the cloud leaves out: no IPs, groups, tags or attachment; an unknown state reads PENDING", () => {
    const bare = {
      ...full,
      Primary: true,
      State: "WEIRD",
      PrivateIpAddressSet: undefined,
      GroupSet: undefined,
      TagSet: undefined,
      Attachment: { InstanceId: "" },
      CreatedTime: undefined,
    };
    const e = toEni(bare as unknown as Model, "A", "S[0]");
    expect(e).toMatchObject({ primary: true, state: "PENDING", primaryIp: "", secondaryIps: [], ips: [] });
    expect([e.securityGroupIds, e.tags, e.createdTime, "attachment" in e]).toEqual([[], {}, "", false]);
    for (const state of ["PENDING", "AVAILABLE", "DETACHING", "DELETING"] as const)
      expect(toEni({ ...full, State: state } as unknown as Model, "A", "S").state).toBe(state);
    expect(toEni({ ...full, State: undefined } as unknown as Model, "A", "S").state).toBe("PENDING");
    const noIndex = { ...full, Attachment: { InstanceId: "ins-abcd1234" } };
    expect(toEni(noIndex as unknown as Model, "A", "S").attachment).toEqual({
      instanceId: "ins-abcd1234",
      deviceIndex: 0,
    });
  });

  test("a malformed value is refused, naming where it is in the answer", () => {
    const bad = (over: Record<string, unknown>) => () =>
      toEni({ ...full, ...over } as unknown as Model, "Describe", "Set[3]");
    expect(bad({ GroupSet: ["sg-abcd1234", "sg-x"] })).toThrow('Describe answered Set[3].GroupSet[1] = "sg-x"');
    expect(bad({ PrivateIpAddressSet: [{ PrivateIpAddress: "10.0.0.1\nexec" }] })).toThrow(
      'Set[3].PrivateIpAddressSet[0].PrivateIpAddress = "10.0.0.1\\nexec"',
    );
    expect(bad({ Attachment: { InstanceId: "ins-abcd1234", DeviceIndex: -1 } })).toThrow(
      "Set[3].Attachment.DeviceIndex = -1; allowed: an integer >= 0",
    );
    expect(bad({ Zone: "guangzhou" })).toThrow("Set[3].Zone");
  });
});

describe("toSubnet", () => {
  const subnet = {
    SubnetId: "subnet-abcd1234",
    VpcId: "vpc-abcd1234",
    CidrBlock: "10.0.16.0/20",
    Zone: "ap-shanghai-2",
    AvailableIpAddressCount: 4000,
    TotalIpAddressCount: 4093,
  };
  test("every field; counts the cloud leaves out are 0", () => {
    type S = Parameters<typeof toSubnet>[0];
    expect(toSubnet(subnet as unknown as S, "A", "S[0]")).toEqual({
      id: "subnet-abcd1234",
      vpcId: "vpc-abcd1234",
      cidr: "10.0.16.0/20",
      zone: "ap-shanghai-2",
      availableIps: 4000,
      totalIps: 4093,
    });
    const bare = { ...subnet, AvailableIpAddressCount: undefined, TotalIpAddressCount: undefined };
    expect(toSubnet(bare as unknown as S, "A", "S[0]")).toMatchObject({ availableIps: 0, totalIps: 0 });
    expect(() => toSubnet({ ...subnet, TotalIpAddressCount: 1.5 } as unknown as S, "A", "S[0]")).toThrow(
      "S[0].TotalIpAddressCount = 1.5",
    );
    expect(() => toSubnet({ ...subnet, CidrBlock: "10.0.0.0/33" } as unknown as S, "A", "S[0]")).toThrow("CidrBlock");
  });
});

describe("formats", () => {
  const ok = (format: FormatName, values: string[]) => values.filter((v) => !FORMATS[format].pattern.test(v));
  test("what each field allows, whole values only", () => {
    expect(ok("zone", ["ap-guangzhou-3", "na-siliconvalley-1", "ap-hongkong-12", "eu-frankfurt-1"])).toEqual([]);
    expect(
      ok("zone", ["ap-guangzhou", "Ap-guangzhou-3", "a-guangzhou-3", "apacx-b-1", "ap-guangzhou-3x", "ap--1"]),
    ).toEqual(["ap-guangzhou", "Ap-guangzhou-3", "a-guangzhou-3", "apacx-b-1", "ap-guangzhou-3x", "ap--1"]);
    expect(ok("mac", ["20:90:6f:1a:2b:3c", "20:90:6F:1A:2B:3C"])).toEqual([]);
    expect(
      ok("mac", ["20:90:6f:1a:2b", "20-90-6f-1a-2b-3c", "20:90:6f:1a:2b:3c:4d", "x20:90:6f:1a:2b:3c"]),
    ).toHaveLength(4);
    for (const [format, good, example] of [
      ["eniId", "eni-abcd1234", "eni-2x7k9abc"],
      ["subnetId", "subnet-abcd1234", "subnet-2x7k9abc"],
      ["vpcId", "vpc-abcd1234", "vpc-4tg8xk2m"],
      ["instanceId", "ins-abcd1234", "ins-8x2kq7ab"],
      ["securityGroupId", "sg-abcd1234", "sg-8x2kq7ab"],
    ] as const) {
      const prefix = good.split("-")[0];
      expect(ok(format, [good, example])).toEqual([]);
      expect(ok(format, [`${good}5`, good.toUpperCase(), `x${good}`, `${prefix}-abc`])).toHaveLength(4);
      expect(FORMATS[format].allowed).toBe(`an ID '${prefix}-' and 8 lowercase letters or digits, e.g. ${example}`);
    }
  });
  test("a refused value is shown JSON-escaped and cut at 120 characters", () => {
    expect(() => checked("A", "f", "x".repeat(118), "ipv4")).toThrow(`A answered f = "${"x".repeat(118)}"; allowed:`);
    expect(() => checked("A", "f", "x".repeat(119), "ipv4")).toThrow(`A answered f = "${"x".repeat(116)}...; allowed:`);
    expect(() => checked("A", "f", undefined, "ipv4")).toThrow("A answered f = undefined; allowed: an IPv4 address");
    expect(() => checked("A", "f", 7, "ipv4")).toThrow("A answered f = 7;");
    expect(checkedCount("A", "f", 0)).toBe(0);
    for (const v of [-1, 0.5, "3", null]) expect(() => checkedCount("A", "f", v)).toThrow("allowed: an integer >= 0");
  });
});
