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

describe("vpccni plan, ipMode: fixed", () => {
  test("reserves nodes x the ENI IP quota (+1 primary IP each) against the subnets; refuses a plan that cannot fit", async () => {
    const repo = scratchRepo({
      "db.yaml": policyYaml("db", "db", ["ipMode: fixed"]).replace(
        "subnets: [subnet-test0001]",
        "subnets: [subnet-test0001, subnet-test0002]",
      ),
    });
    writeFileSync(
      join(repo, "subnets.yaml"),
      JSON.stringify([
        { subnetId: "subnet-test0001", cidr: "10.0.0.0/26", availableIpAddressCount: 59 },
        { subnetId: "subnet-test0002", cidr: "10.0.1.0/27", availableIpAddressCount: 27 },
      ]),
    );
    const args = ["plan", "--ips-per-eni", "19", "--subnets", "subnets.yaml", "policies"];
    const ok = await vpccni(repo, ...args, "--nodes", "3");
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: "" });
    expect(ok.stdout).toBe(
      [
        "policy  nodes  pods/node  prebind min/max  ENIs x IPs = max  IPs/node  ENIs/node  subnet IPs/node  subnet IPs  status",
        "db      3      19 (full)  fixed IP         1 x 19 = 19       19        1          20               60          ok",
        "",
        "subnet           cidr         free  needed  left  policies  status",
        "subnet-test0001  10.0.0.0/26  59    40      19    db        ok",
        "subnet-test0002  10.0.1.0/27  27    20      7     db        ok",
        "",
        "the policies can be met",
        "",
      ].join("\n"),
    );
    const short = await vpccni(repo, ...args, "--nodes", "4");
    expect(short.code).toBe(1);
    expect(short.stdout).toContain(
      "cannot be met: db: 4 nodes x ENI IP quota 19 (+1 for the ENI's primary IP = 20 addresses in one subnet each): only 3 fit; no subnet holds node 4's 20 (room left: subnet-test0001 19, subnet-test0002 7); the controller would bind no ENI for the other 1\n",
    );
    const json = await vpccni(repo, ...args, "--nodes", "4", "--output", "json");
    const doc = JSON.parse(json.stdout);
    expect([json.code, doc.verdict, doc.policies[0].ipMode, doc.policies[0].problems.length]).toEqual([
      1,
      "not-met",
      "fixed",
      1,
    ]);
  });
});

describe("vpccni plan by zone", () => {
  const twoZones = () =>
    scratchRepo({
      "a.yaml": policyYaml("alpha", "a", ["prebind: { min: 2, max: 4 }"]).replace(
        "subnets: [subnet-test0001]",
        "subnets: [subnet-test0001, subnet-test0002]",
      ),
    });
  const quota = ["--pods-per-node", "6", "--enis-per-node", "2", "--ips-per-eni", "10"];
  const zoned = [
    { subnetId: "subnet-test0001", cidr: "10.0.0.0/24", availableIpAddressCount: 120, zone: "ap-guangzhou-3" },
    { subnetId: "subnet-test0002", cidr: "10.0.1.0/26", availableIpAddressCount: 40, zone: "ap-guangzhou-4" },
  ];

  test("a subnets file with zones plans each zone on its own; --nodes-per-zone says where the nodes are", async () => {
    const repo = twoZones();
    writeFileSync(join(repo, "subnets.yaml"), JSON.stringify(zoned));
    const args = ["plan", ...quota, "--subnets", "subnets.yaml", "policies"];
    // 11 subnet IPs per node: 3 nodes fit zone 4's 40 free IPs, 4 do not.
    const ok = await vpccni(repo, ...args, "--nodes-per-zone", "ap-guangzhou-3=8,ap-guangzhou-4=3");
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toContain(
      [
        "zone            nodes  policies  subnets          free  needed  left  status",
        "ap-guangzhou-3  8      alpha=8   subnet-test0001  120   88      32    ok",
        "ap-guangzhou-4  3      alpha=3   subnet-test0002  40    33      7     ok",
      ].join("\n"),
    );
    expect(ok.stdout).toContain("alpha   11     6");
    expect(ok.code).toBe(0);
    const short = await vpccni(repo, ...args, "--nodes-per-zone", "alpha:ap-guangzhou-3=7,alpha:ap-guangzhou-4=4");
    expect(short.code).toBe(1);
    expect(short.stdout).toContain("ap-guangzhou-4  4      alpha=4   subnet-test0002  40    44      -4    CANNOT");
    expect(short.stdout).toContain("cannot be met: subnet-test0002: needs 44 IPs, has 40 free (short by 4)");
    // Nodes in a zone the policy has no subnet in.
    const elsewhere = await vpccni(repo, ...args, "--nodes-per-zone", "ap-guangzhou-3=2,ap-guangzhou-6=1");
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stdout).toContain(
      "cannot be met: alpha: 1 node in ap-guangzhou-6, where spec.subnets has no subnet (subnet-test0001 in ap-guangzhou-3, subnet-test0002 in ap-guangzhou-4)",
    );
    // Without --nodes-per-zone the nodes are spread evenly, and the plan says it assumed so.
    const spread = await vpccni(repo, ...args, "--nodes", "6");
    expect(spread.code).toBe(0);
    expect(spread.stdout).toContain(
      "note: alpha: 6 nodes assumed spread evenly over the zones of its subnets: ap-guangzhou-3 3, ap-guangzhou-4 3 (--nodes-per-zone says where they are)",
    );
  });

  test("zones the plan cannot know, or counts that disagree, are usage errors", async () => {
    const repo = twoZones();
    const bare = zoned.map(({ zone: _, ...s }) => s);
    writeFileSync(join(repo, "bare.json"), JSON.stringify(bare));
    writeFileSync(join(repo, "mixed.json"), JSON.stringify([zoned[0], bare[1]]));
    const noZones = await vpccni(
      repo,
      "plan",
      ...quota,
      "--nodes-per-zone",
      "ap-guangzhou-3=2",
      "--subnets",
      "bare.json",
      "policies",
    );
    expect({ code: noZones.code, stderr: noZones.stderr }).toEqual({
      code: 2,
      stderr:
        "vpccni plan: --nodes-per-zone needs the subnets' zones; allowed: --subnets FILE with a zone on every subnet, or --cloud\n",
    });
    const mixed = await vpccni(repo, "plan", ...quota, "--nodes", "2", "--subnets", "mixed.json", "policies");
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toBe(
      "vpccni plan: mixed.json: subnet-test0002 has no zone, others have one; allowed: a zone on every subnet or on none\n",
    );
    writeFileSync(join(repo, "zoned.json"), JSON.stringify(zoned));
    const disagree = await vpccni(
      repo,
      "plan",
      ...quota,
      "--nodes",
      "5",
      "--nodes-per-zone",
      "ap-guangzhou-3=2",
      "--subnets",
      "zoned.json",
      "policies",
    );
    expect(disagree.code).toBe(2);
    expect(disagree.stderr).toContain(
      "vpccni plan: --nodes gives alpha 5 nodes, --nodes-per-zone 2; allowed: the same count, or only one of them",
    );
    const badPart = await vpccni(
      repo,
      "plan",
      ...quota,
      "--nodes-per-zone",
      "zone3=2",
      "--subnets",
      "zoned.json",
      "policies",
    );
    expect(badPart.code).toBe(2);
    expect(badPart.stderr).toContain('--nodes-per-zone part "zone3=2" is not ZONE=COUNT or NAME:ZONE=COUNT');
  });
});

describe("vpccni plan --output json", () => {
  test("prints the rows of the tables and the verdict; exit codes as for the text", async () => {
    const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a", ["prebind: { min: 2, max: 4 }"]) });
    writeFileSync(
      join(repo, "subnets.json"),
      JSON.stringify([{ subnetId: "subnet-test0001", cidr: "10.0.0.0/24", availableIpAddressCount: 120 }]),
    );
    const args = ["plan", "--pods-per-node", "16", "--enis-per-node", "2", "--ips-per-eni", "10", "policies"];
    const json = async (...more: string[]) => {
      const r = await vpccni(repo, ...args, "--output", "json", ...more);
      return { code: r.code, stderr: r.stderr, doc: JSON.parse(r.stdout) };
    };
    const ok = await json("--nodes", "5", "--subnets", "subnets.json");
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe("");
    expect(Object.keys(ok.doc)).toEqual([
      "ok",
      "verdict",
      "policies",
      "zones",
      "subnets",
      "notes",
      "warnings",
      "problems",
    ]);
    expect({ ok: ok.doc.ok, verdict: ok.doc.verdict }).toEqual({ ok: true, verdict: "met" });
    expect(ok.doc.policies.map((p: { policy: string; nodes: number }) => [p.policy, p.nodes])).toEqual([["alpha", 5]]);
    expect(ok.doc.subnets.map((s: { subnetId: string; free: number }) => [s.subnetId, s.free])).toEqual([
      ["subnet-test0001", 120],
    ]);
    const short = await json("--nodes", "6", "--subnets", "subnets.json");
    expect(short.code).toBe(1);
    expect({ ok: short.doc.ok, verdict: short.doc.verdict }).toEqual({ ok: false, verdict: "not-met" });
    expect(short.doc.problems).toEqual(["subnet-test0001: needs 132 IPs, has 120 free (short by 12)"]);
    const quotas = await json("--nodes", "6");
    expect({ code: quotas.code, verdict: quotas.doc.verdict, subnets: quotas.doc.subnets }).toEqual({
      code: 0,
      verdict: "quotas-met",
      subnets: [],
    });
    writeFileSync(join(repo, "policies", "a.yaml"), policyYaml("alpha", "a", ["prebind: { min: 9, max: 3 }"]));
    const invalid = await json("--nodes", "6");
    expect(invalid.code).toBe(1);
    expect({ ok: invalid.doc.ok, verdict: invalid.doc.verdict }).toEqual({ ok: false, verdict: "invalid" });
    expect(invalid.doc.diagnostics.length).toBeGreaterThan(0);
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
        `subnet-test0001  10.9.4.0/26  ap-guangzhou-3  ${String(free).padEnd(4)}  34      ${String(free - 34).padEnd(4)}  alpha     ok`,
      );
      // DescribeSubnets gives each subnet's zone: the plan is by zone.
      expect(res.stdout).toContain("ap-guangzhou-3  2      alpha=2   subnet-test0001");
      expect(res.code).toBe(0);
      const noKeys = await run(
        [process.execPath, join(REPO, "cli", "main.ts"), "plan", "--cloud", "--nodes", "2", "policies"],
        { cwd: repo, env: { TENCENTCLOUD_SECRET_ID: "", TENCENTCLOUD_SECRET_KEY: "" } },
      );
      expect({ code: noKeys.code, stderr: noKeys.stderr }).toEqual({
        code: 2,
        stderr: "vpccni plan: --cloud needs TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY in the environment\n",
      });
      // The cloud refusing the call is a failed action (1), not a usage error (2).
      const wrongKey = await run(
        [process.execPath, join(REPO, "cli", "main.ts"), "plan", "--cloud", "--nodes", "2", "policies"],
        { cwd: repo, env: { ...env, TENCENTCLOUD_SECRET_KEY: "not-the-key" } },
      );
      expect(wrongKey.stderr).toStartWith(
        `vpccni plan: DescribeSubnets in ${emu.region} at http://${emu.endpoint} failed:`,
      );
      expect(wrongKey.code).toBe(1);
    } finally {
      await emu.stop();
    }
  });
});

test("vpccni plan warns when a scale-out would wait minutes for IPs under the account's API limits", async () => {
  const repo = scratchRepo({ "a.yaml": policyYaml("alpha", "a", []) });
  const quota = ["--enis-per-node", "3", "--ips-per-eni", "20", "--pods-per-node", "50"];
  const slow = await vpccni(repo, "plan", ...quota, "--nodes", "500", "policies");
  expect(slow.code).toBe(0);
  expect(slow.stdout).toMatch(
    /warning: alpha: 500 new nodes: the last pod gets its IP after ~\d+ min at the default API limits; see vpccni simulate --fleet/,
  );
  const quick = await vpccni(repo, "plan", ...quota, "--nodes", "5", "policies");
  expect(quick.stdout).not.toContain("new nodes:");
});

test("vpccni plan notes what prebind.max = prebind.min costs in churn, once for every such policy", async () => {
  const repo = scratchRepo({
    "a.yaml": policyYaml("alpha", "a", []),
    "b.yaml": policyYaml("beta", "b", ["prebind: { min: 3, max: 3 }"]),
    "c.yaml": policyYaml("gamma", "c", ["prebind: { min: 5, max: 10 }"]),
  });
  const r = await vpccni(repo, "plan", "--enis-per-node", "3", "--ips-per-eni", "10", "--nodes", "2", "policies");
  expect(r.code).toBe(0);
  const notes = r.stdout.split("\n").filter((l) => l.includes("prebind.max = prebind.min"));
  expect(notes).toEqual([
    "note: alpha, beta: prebind.max = prebind.min: every pod deleted past the surplus is released and bound again; on the bundled diurnal trace 5/5 makes 6,469 cloud calls a day against 395 with 5/10 (vpccni simulate --recommend)",
  ]);
});
