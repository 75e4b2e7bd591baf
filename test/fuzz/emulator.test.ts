// The emulator under hostile API calls (seeded): signed calls of every action with mutated
// parameters through the real SDK, and raw requests that are not API calls at all. Every answer
// is an API answer (success, or an error with a documented-style code and a message), never a
// crash or a 5xx; afterwards the cloud is consistent (no address on two ENIs, every assigned
// address inside its subnet) and still answers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { FAST, type SdkClient, sdk } from "../../emulator/sdk-kit.ts";
import { emulatorConfig, SUBNETS, VPC } from "../../sandbox/emulated-cloud.ts";
import { mutate, nastyString, Rng } from "./fuzz-kit.ts";

const SEED = 1130;
const SIGNED = 1500;
const RAW = 500;

describe("the emulator under hostile input", () => {
  let emu: Emulator;
  let client: SdkClient;
  let instance: string;
  let sg: string;

  beforeAll(async () => {
    // no rate limits: the fuzzer measures answers, not throttling
    const rateLimits = Object.fromEntries(
      [
        "AssignPrivateIpAddresses",
        "UnassignPrivateIpAddresses",
        "CreateNetworkInterface",
        "DeleteNetworkInterface",
        "AttachNetworkInterface",
        "DetachNetworkInterface",
        "DescribeVpcTaskResult",
        "DescribeNetworkInterfaceLimit",
      ].map((a) => [a, 0]),
    );
    const config = emulatorConfig(1);
    emu = await startEmulator({
      config: { ...config, settings: { ...config.settings, ...FAST, rateLimits } },
      log: () => {},
      env: {},
    });
    client = sdk(emu);
    const inv = emu.inventory();
    instance = inv.instances[0]!.instanceId;
    sg = inv.securityGroups[0]!;
  });
  afterAll(async () => {
    await emu?.stop();
  });

  test(`${SIGNED} signed calls with mutated parameters: each an API answer, and the cloud stays consistent`, async () => {
    const r = new Rng(SEED);
    const enis: string[] = [];
    const valid = (): [string, Record<string, unknown>] => {
      const eni = enis.length > 0 ? r.pick(enis) : "eni-00000000";
      return r.pick<[string, Record<string, unknown>]>([
        [
          "CreateNetworkInterface",
          {
            VpcId: VPC,
            SubnetId: r.pick([SUBNETS.large, SUBNETS.small]),
            NetworkInterfaceName: "fuzz",
            SecurityGroupIds: [sg],
            SecondaryPrivateIpAddressCount: r.int(4),
          },
        ],
        ["AssignPrivateIpAddresses", { NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 + r.int(3) }],
        [
          "AssignPrivateIpAddresses",
          { NetworkInterfaceId: eni, PrivateIpAddresses: [{ PrivateIpAddress: `10.231.8.${r.int(256)}` }] },
        ],
        [
          "UnassignPrivateIpAddresses",
          { NetworkInterfaceId: eni, PrivateIpAddresses: [{ PrivateIpAddress: "10.231.8.9" }] },
        ],
        ["AttachNetworkInterface", { NetworkInterfaceId: eni, InstanceId: instance }],
        ["DetachNetworkInterface", { NetworkInterfaceId: eni, InstanceId: instance }],
        ["DeleteNetworkInterface", { NetworkInterfaceId: eni }],
        ["DescribeNetworkInterfaces", { Filters: [{ Name: "vpc-id", Values: [VPC] }], Limit: 100 }],
        ["DescribeSubnets", { SubnetIds: [SUBNETS.large] }],
        ["DescribeNetworkInterfaceLimit", { InstanceId: instance }],
        ["DescribeVpcTaskResult", { TaskId: String(r.int(100000)) }],
      ]);
    };
    const problems: string[] = [];
    let ok = 0;
    for (let i = 0; i < SIGNED && problems.length < 5; i++) {
      const [action, params] = valid();
      // an action name must be a header value a client can send (printable ASCII)
      const call = r.chance(0.05)
        ? nastyString(r, ["DescribeVpcs", "describeSubnets"]).replace(/[^\x21-\x7e]/g, "x") || "X"
        : action;
      const body = r.chance(0.35) ? params : (mutate(r, params) as Record<string, unknown>);
      try {
        const res = (await client.request(call, body)) as { NetworkInterface?: { NetworkInterfaceId?: string } };
        ok++;
        const id = res?.NetworkInterface?.NetworkInterfaceId;
        if (id) enis.push(id);
      } catch (e) {
        const err = e as { code?: string; message?: string };
        if (typeof err.code !== "string" || !/^[A-Z][A-Za-z]+(\.[A-Za-z0-9]+)*$/.test(err.code))
          problems.push(`case ${i} ${call}: no API error code: ${err.message?.slice(0, 200)}`);
        else if (err.code === "InternalError" || /\n\s+at /.test(err.message ?? ""))
          problems.push(
            `case ${i} ${call} ${JSON.stringify(body).slice(0, 200)}: ${err.code} ${err.message?.slice(0, 300)}`,
          );
      }
    }
    expect(problems).toEqual([]);
    expect(ok).toBeGreaterThan(SIGNED / 10);
    // consistent: no address on two ENIs, every secondary address inside its subnet's block
    const state = await emu.admin.state();
    const owner = new Map<string, string>();
    for (const e of Object.values(state.enis))
      for (const ip of e.ips) {
        expect(owner.get(ip.ip), `${ip.ip} on ${owner.get(ip.ip)} and ${e.eniId}`).toBeUndefined();
        owner.set(ip.ip, e.eniId);
      }
    // and it still answers
    const subnets = await client.DescribeSubnets({ SubnetIds: [SUBNETS.large] });
    expect(subnets.SubnetSet?.[0]?.SubnetId).toBe(SUBNETS.large);
  }, 120_000);

  test(`${RAW} raw requests that are not API calls: a 4xx or an API error answer, never a 5xx`, async () => {
    const r = new Rng(SEED + 1);
    const problems: string[] = [];
    for (let i = 0; i < RAW && problems.length < 5; i++) {
      const headers: Record<string, string> = {};
      if (r.chance(0.7)) headers["content-type"] = r.pick(["application/json", "text/plain", nastyString(r)]);
      if (r.chance(0.5))
        headers.authorization = r.pick([
          "TC3-HMAC-SHA256 Credential=AKID/2026-11-30/vpc/tc3_request, SignedHeaders=content-type;host, Signature=00",
          nastyString(r),
        ]);
      if (r.chance(0.5)) headers["x-tc-action"] = r.pick(["DescribeSubnets", nastyString(r)]);
      if (r.chance(0.3)) headers["x-tc-timestamp"] = r.pick(["0", "-1", "99999999999", nastyString(r)]);
      const method = r.pick(["POST", "POST", "GET", "PUT", "DELETE"]);
      const body =
        method === "GET" ? undefined : r.chance(0.5) ? JSON.stringify(mutate(r, { SubnetIds: ["x"] })) : nastyString(r);
      const path = r.pick([
        "/",
        "/",
        "/x",
        "/_emulator/state",
        "/meta/",
        `/${nastyString(r).replace(/[^\x21-\x7e]/g, "")}`,
      ]);
      let res: Response;
      try {
        // header values must be Latin-1 on the wire: what a client cannot send is not a case
        for (const [k, v] of Object.entries(headers)) if (/[^\x20-\x7e]/.test(v)) delete headers[k];
        res = await fetch(`${emu.url}${path}`, { method, headers, body });
      } catch (e) {
        problems.push(`case ${i}: the request failed: ${(e as Error).message}`);
        continue;
      }
      const text = await res.text();
      if (res.status >= 500) problems.push(`case ${i} ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
      if (res.status === 200 && path === "/" && method === "POST") {
        const j = JSON.parse(text) as { Response?: { Error?: { Code?: string } } };
        if (!j.Response?.Error?.Code)
          problems.push(`case ${i}: accepted an unsigned or broken call: ${text.slice(0, 200)}`);
      }
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
