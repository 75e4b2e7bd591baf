// What the cloud answers is checked at the adapter's boundary: a CIDR, address, MAC or ID that
// is not what its field allows is a CloudError "invalid-answer" naming the action, the field and
// the value (JSON-escaped), and never reaches the caller. The emulator's `tamper` fault plays the
// broken or hostile cloud.
import { afterEach, describe, expect, test } from "bun:test";
import { checked, FORMATS } from "./answers.ts";
import { CloudError } from "./errors.ts";
import { MetadataClient } from "./metadata.ts";
import { type EmulatedVpc, INSTANCE, POD_SUBNET, SG, startEmulatedVpc } from "./emulated-vpc-kit.ts";

const worlds: EmulatedVpc[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.stop()));
});

async function refusal(call: Promise<unknown>): Promise<{ kind: string; action: string; message: string }> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof CloudError)) throw new Error(`expected a CloudError, got ${String(e)}`);
  return { kind: e.kind, action: e.action, message: e.message };
}

const INJECTION = "10.2.16.0/22\nnetns exec x sh -c id";

describe("the adapter refuses malformed answers", () => {
  test("a subnet CIDR with a newline (DescribeSubnets)", async () => {
    const w = await startEmulatedVpc();
    worlds.push(w);
    w.emu.admin.setFaults({ DescribeSubnets: { tamper: { CidrBlock: INJECTION } } });
    expect(await refusal(w.api.describeSubnets([POD_SUBNET]))).toEqual({
      kind: "invalid-answer",
      action: "DescribeSubnets",
      message:
        'DescribeSubnets answered SubnetSet[0].CidrBlock = "10.2.16.0/22\\nnetns exec x sh -c id"; allowed: an IPv4 CIDR such as 10.0.1.0/24. The answer is refused, not passed on',
    });
    w.emu.admin.setFaults({});
    expect((await w.api.describeSubnets([POD_SUBNET]))[0]?.cidr).toBe("10.2.16.0/22");
  });

  test("an ENI's primary IP, MAC, ID, subnet, VPC or attachment (DescribeNetworkInterfaces)", async () => {
    const w = await startEmulatedVpc();
    worlds.push(w);
    const eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG], secondaryIps: 1 });
    await w.api.attachEni(eni.id, INSTANCE);
    const cases: [string, string, string][] = [
      ["PrivateIpAddress", "10.2.16.5\u0000", "PrivateIpAddressSet[0].PrivateIpAddress"],
      ["MacAddress", "20:90:6F:00:00:01 up", "MacAddress"],
      ["NetworkInterfaceId", "eni-abc; reboot", "NetworkInterfaceId"],
      ["SubnetId", "subnet-X", "SubnetId"],
      ["VpcId", "", "VpcId"],
      ["InstanceId", "ins-12345678\r", "Attachment.InstanceId"],
    ];
    for (const [field, value, at] of cases) {
      w.emu.admin.setFaults({ DescribeNetworkInterfaces: { tamper: { [field]: value } } });
      const r = await refusal(w.api.listEnis(INSTANCE));
      expect({ field, kind: r.kind, action: r.action }).toEqual({
        field,
        kind: "invalid-answer",
        action: "DescribeNetworkInterfaces",
      });
      expect(r.message).toMatch(/^DescribeNetworkInterfaces answered NetworkInterfaceSet\[\d+\]\./);
      expect(r.message).toContain(`.${at} = ${JSON.stringify(value)}; allowed: `);
    }
    w.emu.admin.setFaults({});
    expect((await w.api.getEni(eni.id))?.primaryIp).toBe(eni.primaryIp);
  });

  test("addresses AssignPrivateIpAddresses answers, and the limits of an instance", async () => {
    const w = await startEmulatedVpc();
    worlds.push(w);
    const eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG] });
    w.emu.admin.setFaults({ AssignPrivateIpAddresses: { tamper: { PrivateIpAddress: "10.2.16.9\nlink del eth0" } } });
    const r = await refusal(w.api.assignIps(eni.id, { count: 1 }));
    expect(r.message).toBe(
      'AssignPrivateIpAddresses answered PrivateIpAddressSet[0].PrivateIpAddress = "10.2.16.9\\nlink del eth0"; allowed: an IPv4 address such as 10.0.1.5. The answer is refused, not passed on',
    );
    w.emu.admin.setFaults({ DescribeNetworkInterfaceLimit: { tamper: { EniQuantity: "4" } } });
    expect((await refusal(w.api.instanceLimits(INSTANCE))).message).toStartWith(
      'DescribeNetworkInterfaceLimit answered EniQuantity = "4"; allowed: an integer >= 0',
    );
  });

  test("the metadata service's instance ID, MAC, zone and ENI addresses", async () => {
    const answers: Record<string, string> = {
      "instance-id": "ins-cccccccc\nx",
      mac: "20:90:6f:00:00:01",
      "placement/zone": "ap-guangzhou-3",
      "network/interfaces/macs/": "20:90:6f:00:00:01/\n../../x/\n",
      "network/interfaces/macs/20:90:6f:00:00:01/vpc-id": "vpc-cccccccc",
      "network/interfaces/macs/20:90:6f:00:00:01/subnet-id": "subnet-nodes002",
      "network/interfaces/macs/20:90:6f:00:00:01/primary-local-ipv4": "10.2.0.4 dev eth0",
      "network/interfaces/macs/20:90:6f:00:00:01/local-ipv4s/": "10.2.0.4\n",
    };
    const fake = (async (url: string) => {
      const path = url.replace("http://md/", "");
      return path in answers ? new Response(answers[path]) : new Response("", { status: 404 });
    }) as unknown as typeof fetch;
    const md = new MetadataClient("http://md/", fake);
    expect((await refusal(md.instanceId())).message).toBe(
      `metadata instance-id answered instance-id = "ins-cccccccc\\nx"; allowed: ${FORMATS.instanceId.allowed}. The answer is refused, not passed on`,
    );
    expect(await md.mac()).toBe("20:90:6f:00:00:01");
    expect(await md.zone()).toBe("ap-guangzhou-3");
    expect((await refusal(md.macs())).message).toContain('network/interfaces/macs/[1] = "../../x"');
    expect((await refusal(md.eni("20:90:6f:00:00:01"))).message).toContain('primary-local-ipv4 = "10.2.0.4 dev eth0"');
  });
});

describe("the formats", () => {
  const ok = (value: string, format: keyof typeof FORMATS) => {
    try {
      return checked("A", "f", value, format) === value;
    } catch {
      return false;
    }
  };
  test("IPv4 and CIDR: dotted quads 0-255 without leading zeros, prefixes 0-32", () => {
    for (const v of ["10.0.0.1", "255.255.255.255", "0.0.0.0"])
      expect({ v, ok: ok(v, "ipv4") }).toEqual({ v, ok: true });
    for (const v of ["10.0.0.256", "010.0.0.1", "10.0.0", "10.0.0.1 ", " 10.0.0.1", "10.0.0.1\n", "::1", "1.2.3.4/8"])
      expect({ v, ok: ok(v, "ipv4") }).toEqual({ v, ok: false });
    for (const v of ["10.0.0.0/8", "10.2.16.0/22", "0.0.0.0/0", "1.2.3.4/32"])
      expect({ v, ok: ok(v, "cidr") }).toEqual({ v, ok: true });
    for (const v of ["10.0.0.0/33", "10.0.0.0", "10.0.0.0/08x", "10.0.0.0/8\n"])
      expect({ v, ok: ok(v, "cidr") }).toEqual({ v, ok: false });
  });
  test("MACs with colons, either case; IDs a prefix and 8 lowercase letters or digits", () => {
    expect(ok("20:90:6f:1a:2b:3c", "mac")).toBe(true);
    expect(ok("20:90:6F:1A:2B:3C", "mac")).toBe(true);
    for (const v of ["20-90-6f-1a-2b-3c", "20:90:6f:1a:2b", "20:90:6f:1a:2b:3c\n"])
      expect({ v, ok: ok(v, "mac") }).toEqual({ v, ok: false });
    expect(ok("eni-2x7k9abc", "eniId")).toBe(true);
    for (const v of ["eni-2x7k9ab", "eni-2X7K9ABC", "eni-2x7k9abc\n", "subnet-2x7k9abc"])
      expect({ v, ok: ok(v, "eniId") }).toEqual({ v, ok: false });
  });
});
