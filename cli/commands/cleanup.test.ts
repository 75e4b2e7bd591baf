// `vpccni cleanup` as a user runs it: the real CLI, the real SDK, the emulator, keys in the env.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import { systemClock } from "../../runtime/cloud/clock.ts";
import { INSTANCE, newApi, POD_SUBNET, SG, testConfig, VPC } from "../../runtime/cloud/emulated-vpc-kit.ts";
import type { TencentVpcApi } from "../../runtime/cloud/tencent.ts";

const MAIN = join(import.meta.dir, "..", "main.ts");
const CLUSTER = "cls-test0001";
const HOUR = 3_600_000;

let emu: Emulator;
let api: TencentVpcApi;
const ids: Record<string, string> = {};

async function vpccni(...args: string[]) {
  const env = {
    TENCENTCLOUD_SECRET_ID: emu.credentials.secretId,
    TENCENTCLOUD_SECRET_KEY: emu.credentials.secretKey,
    http_proxy: "",
  };
  const base = ["--region", emu.region, "--endpoint", `http://${emu.endpoint}`, "--vpc", VPC];
  return run([process.execPath, MAIN, "cleanup", ...base, ...args], { env });
}

beforeAll(async () => {
  // Real time: the CLI's process runs on the wall clock, so the emulator does too.
  emu = await startEmulator({ config: testConfig(), log: () => {} });
  api = newApi(emu, systemClock, undefined, { clusterId: CLUSTER });
  const other = newApi(emu, systemClock, undefined, { clusterId: "cls-other001" }, 7);
  const old = Date.now() - HOUR;
  const base = { subnetId: POD_SUBNET, securityGroupIds: [SG] };
  ids.attached = (await api.createEni({ ...base, secondaryIps: 2, node: "node-a", createdAt: old })).id;
  await api.attachEni(ids.attached, INSTANCE);
  ids.detached1 = (await api.createEni({ ...base, secondaryIps: 3, node: "node-a", createdAt: old })).id;
  ids.detached2 = (await api.createEni({ ...base, node: "node-b", createdAt: old })).id;
  ids.fresh = (await api.createEni({ ...base, secondaryIps: 1, node: "node-c" })).id;
  ids.other = (await other.createEni({ ...base, node: "node-x", createdAt: old })).id;
});

afterAll(() => emu.stop());

describe("vpccni cleanup", () => {
  test("a dry run lists exactly this cluster's ENIs and touches nothing", async () => {
    const r = await vpccni("--cluster", CLUSTER);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ENI +NODE +SUBNET +ATTACHED +IPS +AGE +ACTION$/);
    const row = (id: string) => lines.find((l) => l.startsWith(id)) ?? "";
    // an hour old when made; seconds pass before the CLI reads it (a loaded machine: more)
    const HOUR_AGE = "1h(?:\\d+m)?(?:\\d+s)?";
    expect(row(ids.attached!)).toMatch(
      new RegExp(
        `node-a +${POD_SUBNET} +${INSTANCE} +2 +${HOUR_AGE} +keep: attached to ${INSTANCE}; a live agent may own it`,
      ),
    );
    expect(row(ids.detached1!)).toMatch(new RegExp(`node-a +${POD_SUBNET} +- +3 +${HOUR_AGE} +would delete$`));
    expect(row(ids.detached2!)).toMatch(new RegExp(`node-b .* - +0 +${HOUR_AGE} +would delete$`));
    expect(row(ids.fresh!)).toMatch(/node-c .* 1 +\d+s +keep: younger than the age guard$/);
    expect(r.stdout).not.toContain(ids.other!);
    expect(lines).toHaveLength(6);
    expect(lines[5]).toBe(
      `4 ENI(s) tagged vpccni.io/cluster=${CLUSTER} in ${VPC} (${emu.region}): 2 would be deleted with --delete, 2 kept.`,
    );
    for (const id of Object.values(ids)) expect(await api.getEni(id)).toBeDefined();
  });

  test("--output json gives the same plan as data", async () => {
    const r = await vpccni("--cluster", CLUSTER, "--output", "json");
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ cluster: CLUSTER, delete: false, ok: true, olderThan: "5m", vpc: VPC });
    expect(doc.results).toBeUndefined();
    const byId = Object.fromEntries(doc.enis.map((d: { id: string }) => [d.id, d]));
    expect(Object.keys(byId).sort()).toEqual([ids.attached!, ids.detached1!, ids.detached2!, ids.fresh!].sort());
    expect(byId[ids.detached1!].steps.map((s: { action: string }) => s.action)).toEqual(["unassign", "delete"]);
    expect(byId[ids.detached1!].secondaryIps).toHaveLength(3);
  });

  test("--delete removes the old detached ENIs only; a second --delete is a no-op", async () => {
    const r = await vpccni("--cluster", CLUSTER, "--delete");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `${ids.detached1}: unassign: unassigned 3 of 3 IPs\n${ids.detached1}: delete: deleted\n`,
    );
    expect(r.stdout).toContain(`${ids.detached2}: delete: deleted\n`);
    expect(r.stdout).not.toContain(`${ids.detached2}: unassign`);
    expect(await api.getEni(ids.detached1!)).toBeUndefined();
    expect(await api.getEni(ids.detached2!)).toBeUndefined();
    const attached = await api.getEni(ids.attached!);
    expect(attached?.attachment?.instanceId).toBe(INSTANCE);
    expect(attached?.secondaryIps).toHaveLength(2);
    expect((await api.getEni(ids.fresh!))?.secondaryIps).toHaveLength(1);
    expect(await api.getEni(ids.other!)).toBeDefined();

    const again = await vpccni("--cluster", CLUSTER, "--delete");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("0 to delete, 2 kept.");
    expect(again.stdout).not.toMatch(/: (unassign|detach|delete|skip):/);
  });

  test("--force-attached detaches too; a failed action exits 1 naming it, and a rerun finishes", async () => {
    emu.admin.setFaults({
      DeleteNetworkInterface: { errorRate: 1, errorCode: "UnauthorizedOperation", errorPhase: "before" },
    });
    const r = await vpccni("--cluster", CLUSTER, "--delete", "--force-attached");
    emu.admin.setFaults({});
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${ids.attached}: unassign: unassigned 2 of 2 IPs\n${ids.attached}: detach: detached from ${INSTANCE}\n${ids.attached}: delete FAILED: `,
    );
    expect(r.stderr).toStartWith(`vpccni cleanup: 1 action(s) failed: delete ${ids.attached} (`);
    const again = await vpccni("--cluster", CLUSTER, "--delete", "--force-attached");
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${ids.attached}: delete: deleted\n`);
    expect(await api.getEni(ids.attached!)).toBeUndefined();
    expect(await api.getEni(ids.fresh!)).toBeDefined();
  });

  test("nothing found is one line; usage errors exit 2 naming the option", async () => {
    const none = await vpccni("--cluster", "cls-nothing1");
    expect(none).toEqual({
      code: 0,
      stdout: `No ENIs tagged vpccni.io/cluster=cls-nothing1 in ${VPC} (${emu.region}).\n`,
      stderr: "",
    });
    // --output text, as every other command says it, is the table.
    expect(await vpccni("--cluster", "cls-nothing1", "--output", "text")).toEqual(none);
    const bad = await vpccni("--older-than", "5 minutes", "--output", "yaml");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      [
        "vpccni cleanup: --cluster is required",
        'vpccni cleanup: --older-than is "5 minutes"; allowed: a duration such as 30s, 5m or 1h30m',
        'vpccni cleanup: --output is "yaml"; allowed: table (or text), json',
        "",
      ].join("\n"),
    );
    const noKeys = await run([process.execPath, MAIN, "cleanup", "--cluster", CLUSTER, "--region", "r", "--vpc", VPC], {
      env: { TENCENTCLOUD_SECRET_ID: "", TENCENTCLOUD_SECRET_KEY: "" },
    });
    expect({ code: noKeys.code, stderr: noKeys.stderr }).toEqual({
      code: 2,
      stderr:
        "vpccni cleanup: needs --credentials-dir or TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY in the environment\n",
    });
  });

  test("the help fits in 80 columns", async () => {
    const { help } = await import("./cleanup.ts");
    for (const line of help.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
});
