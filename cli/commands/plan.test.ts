// `vpccni plan` as a user runs it: flags, the subnets file, exit codes.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { cleanScratchAfterEach, policyYaml, REPO, scratchRepo } from "../../compiler/compile-kit.ts";
import { startEmulator } from "../../emulator/index.ts";
import { TencentVpcApi } from "../../runtime/cloud/index.ts";

cleanScratchAfterEach();

const vpccni = (cwd: string, ...args: string[]) =>
  run([process.execPath, join(REPO, "cli", "main.ts"), ...args], { cwd });

describe("vpccni plan", () => {
  test("prints the tables and exits 0 when the subnets suffice, 1 when one runs short", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a", ["prebind: { min: 2, max: 4 }"]) });
    writeFileSync(
      join(repo, "subnets.json"),
      JSON.stringify([{ subnetId: "subnet-test0001", cidr: "10.0.0.0/24", availableIpAddressCount: 120 }]),
    );
    const args = [
      "plan",
      "--pods-per-node",
      "16",
      "--enis-per-node",
      "2",
      "--ips-per-eni",
      "10",
      "--subnets",
      "subnets.json",
      "policies",
    ];
    const ok = await vpccni(repo, ...args, "--nodes", "5");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      [
        "policy  nodes  pods/node  prebind min/max  ENIs x IPs = max  IPs/node  ENIs/node  subnet IPs/node  subnet IPs  status",
        "alpha   5      16         2/4              2 x 10 = 20       20        2          22               110         ok",
        "",
        "subnet           cidr         free  needed  left  policies  status",
        "subnet-test0001  10.0.0.0/24  120   110     10    alpha     ok",
        "",
        "the policies can be met",
        "",
      ].join("\n"),
    );
    const short = await vpccni(repo, ...args, "--nodes", "alpha=6");
    expect(short.code).toBe(1);
    expect(short.stdout).toContain("cannot be met: subnet-test0001: needs 132 IPs, has 120 free (short by 12)\n");
  });

  test("a bad subnets file or an unknown policy name is a usage error naming the problem", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a") });
    writeFileSync(join(repo, "subnets.yaml"), "- subnetId: subnet-test0001\n  availableIpAddressCount: -3\n");
    const bad = await vpccni(repo, "plan", "--nodes", "beta=3", "--subnets", "subnets.yaml", "policies");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('vpccni plan: --nodes names "beta", which is no loaded policy; allowed: alpha');
    expect(bad.stderr).toContain("vpccni plan: subnets.yaml: 0.availableIpAddressCount:");
  });
});

describe("vpccni plan --cloud", () => {
  test("reads free IPs of the policy's subnets from the VPC API (the emulator) with credentials from the environment", async () => {
    const emu = await startEmulator({
      log: () => {},
      config: {
        seed: 3,
        vpcs: [{ vpcId: "vpc-test0001", cidrBlock: "10.9.0.0/16" }],
        subnets: [
          { subnetId: "subnet-test0001", vpcId: "vpc-test0001", cidrBlock: "10.9.4.0/26", zone: "ap-guangzhou-3" },
        ],
        securityGroups: ["sg-test0001"],
      },
    });
    try {
      const policy = policyYaml("alpha", "a", [`cloud: { endpoint: "http://${emu.endpoint}" }`]).replace(
        "ap-guangzhou",
        emu.region,
      );
      const repo = scratchRepo({ "a.yaml": policy });
      const direct = new TencentVpcApi({
        region: emu.region,
        endpoint: `http://${emu.endpoint}`,
        credentials: { description: "emulator", get: async () => emu.credentials },
        vpcId: "vpc-test0001",
        clusterId: "cls-test0001",
      });
      const free = (await direct.describeSubnets(["subnet-test0001"]))[0]!.availableIps;
      expect(free).toBeGreaterThan(34);
      const env = {
        TENCENTCLOUD_SECRET_ID: emu.credentials.secretId,
        TENCENTCLOUD_SECRET_KEY: emu.credentials.secretKey,
        http_proxy: "",
      };
      const res = await run(
        [
          process.execPath,
          join(REPO, "cli", "main.ts"),
          "plan",
          "--cloud",
          "--nodes",
          "2",
          "--pods-per-node",
          "10",
          "--enis-per-node",
          "2",
          "--ips-per-eni",
          "10",
          "policies",
        ],
        { cwd: repo, env },
      );
      expect(res.stderr).toBe("");
      expect(res.stdout).toContain(
        `subnet-test0001  10.9.4.0/26  ${String(free).padEnd(4)}  34      ${String(free - 34).padEnd(4)}  alpha     ok`,
      );
      expect(res.code).toBe(0);
      const noKeys = await run(
        [process.execPath, join(REPO, "cli", "main.ts"), "plan", "--cloud", "--nodes", "2", "policies"],
        { cwd: repo, env: { TENCENTCLOUD_SECRET_ID: "", TENCENTCLOUD_SECRET_KEY: "" } },
      );
      expect({ code: noKeys.code, stderr: noKeys.stderr }).toEqual({
        code: 2,
        stderr: "vpccni plan: --cloud needs TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY in the environment\n",
      });
    } finally {
      await emu.stop();
    }
  });
});
