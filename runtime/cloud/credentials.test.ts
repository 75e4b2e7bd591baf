import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../emulator/index.ts";
import {
  cvmRoleCredentials,
  envCredentials,
  parseKeyValues,
  resolveCredentials,
  secretCredentials,
} from "./credentials.ts";
import { MetadataClient } from "./metadata.ts";
import { FakeClock, INSTANCE, newApi, testConfig } from "./emulated-vpc-kit.ts";

let emu: Emulator;
const clock = new FakeClock();
let dir: string;
beforeAll(async () => {
  emu = await startEmulator({
    config: testConfig({ settings: { tempCredentialTtlSec: 100 } }),
    now: clock.now,
    log: () => {},
  });
  dir = mkdtempSync(join(tmpdir(), "cloud-cred-"));
});
afterAll(async () => {
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("environment credentials need both id and key; the session token is optional", async () => {
  expect(envCredentials({ TENCENTCLOUD_SECRET_ID: "id" })).toBeUndefined();
  expect(await envCredentials({ TENCENTCLOUD_SECRET_ID: "id", TENCENTCLOUD_SECRET_KEY: "key" })!.get()).toEqual({
    secretId: "id",
    secretKey: "key",
  });
  expect(
    await envCredentials({
      TENCENTCLOUD_SECRET_ID: "id",
      TENCENTCLOUD_SECRET_KEY: "key",
      TENCENTCLOUD_SESSION_TOKEN: "t",
    })!.get(),
  ).toEqual({ secretId: "id", secretKey: "key", token: "t" });
});

test("a mounted Secret is read, re-read when it changes, and a missing key is named", async () => {
  const src = secretCredentials(dir);
  await expect(src.get()).rejects.toThrow(
    "TENCENTCLOUD_SECRET_KEY cannot be read (ENOENT); the Secret needs keys TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY",
  );
  writeFileSync(join(dir, "TENCENTCLOUD_SECRET_ID"), "id-1\n");
  writeFileSync(join(dir, "TENCENTCLOUD_SECRET_KEY"), "key-1\n");
  expect(await src.get()).toEqual({ secretId: "id-1", secretKey: "key-1" });
  writeFileSync(join(dir, "TENCENTCLOUD_SECRET_KEY"), "key-2\n");
  utimesSync(join(dir, "TENCENTCLOUD_SECRET_KEY"), new Date(), new Date(Date.now() + 5_000));
  expect(await src.get()).toEqual({ secretId: "id-1", secretKey: "key-2" });
});

test("a Secret key mounted as one file of KEY=value lines works too", async () => {
  const file = join(dir, "credentials.env");
  writeFileSync(file, "# vpccni\nexport TENCENTCLOUD_SECRET_ID=id-f\nTENCENTCLOUD_SECRET_KEY='key-f'\n");
  expect(await secretCredentials(file).get()).toEqual({ secretId: "id-f", secretKey: "key-f" });
  writeFileSync(file, "TENCENTCLOUD_SECRET_ID=only-id\n");
  utimesSync(file, new Date(), new Date(Date.now() + 5_000));
  await expect(secretCredentials(file).get()).rejects.toThrow(
    "has no or an empty TENCENTCLOUD_SECRET_ID or TENCENTCLOUD_SECRET_KEY",
  );
  await expect(secretCredentials(join(dir, "absent")).get()).rejects.toThrow("absent cannot be read (ENOENT)");
  expect(parseKeyValues('A=1\n\nB = "two words"\nbad line\n')).toEqual({ A: "1", B: "two words" });
});

test("resolveCredentials prefers the environment, then the Secret, then the CVM role", () => {
  expect(
    resolveCredentials({ env: { TENCENTCLOUD_SECRET_ID: "a", TENCENTCLOUD_SECRET_KEY: "b" }, secretPath: dir })
      .description,
  ).toContain("environment");
  expect(resolveCredentials({ env: {}, secretPath: dir }).description).toBe(`secret ${dir}`);
  expect(resolveCredentials({ env: {}, metadataUrl: "http://127.0.0.1:1/" }).description).toContain("CVM role");
});

test("the CVM role's short-lived credentials sign API calls and are refreshed at half their life", async () => {
  const metadata = new MetadataClient(emu.metadataUrl(INSTANCE));
  // 100 s credentials: the 5 min margin is capped at half the lifetime (role-refresh.test.ts)
  const role = cvmRoleCredentials(metadata, clock);
  const first = await role.get();
  expect(first.token).toBeTruthy();
  expect(await role.get()).toBe(first);
  const api = newApi(emu, clock, role);
  expect((await api.instanceLimits(INSTANCE)).enis).toBe(4);
  clock.t += 49_000; // 51 s left: still cached
  expect(await role.get()).toBe(first);
  clock.t += 2_000; // 49 s left: refreshed (the emulator hands out new ones past half their life)
  const second = await role.get();
  expect(second.secretId).not.toBe(first.secretId);
  expect((await api.instanceLimits(INSTANCE)).ipsPerEni).toBe(20);
});

test("the metadata client reads the instance, its zone and its ENIs", async () => {
  const md = new MetadataClient(emu.metadataUrl(INSTANCE));
  expect(await md.instanceId()).toBe(INSTANCE);
  expect(await md.zone()).toBe("ap-guangzhou-3");
  const macs = await md.macs();
  expect(macs).toHaveLength(1);
  const eni = await md.eni(macs[0]!);
  expect(eni.ips).toEqual([eni.primaryIp]);
  expect(eni.subnetId).toBe("subnet-nodes002");
  await expect(md.get("no-such-key")).rejects.toThrow("metadata no-such-key: HTTP 404");
});

test("KEY=value lines: export with any spaces, comments after blanks, quotes only when they match, no empty key", () => {
  expect(
    parseKeyValues(
      [
        "  export\tA=1",
        "   # a comment = not a key",
        "#B=2",
        "=3",
        "C=x=y",
        'D="quoted"',
        "E='mixed\"",
        'F="a" tail',
        "Gexport=4",
      ].join("\n"),
    ),
  ).toEqual({ A: "1", C: "x=y", D: "quoted", E: "'mixed\"", F: '"a" tail', Gexport: "4" });
});

test("a Secret is read once per change of its file: the same time stamp, the same pair", async () => {
  const sub = mkdtempSync(join(dir, "cached-"));
  writeFileSync(join(sub, "TENCENTCLOUD_SECRET_ID"), "id-c\n");
  writeFileSync(join(sub, "TENCENTCLOUD_SECRET_KEY"), "key-c\n");
  writeFileSync(join(sub, "TENCENTCLOUD_SESSION_TOKEN"), "tok\n");
  const stamp = new Date(Date.now() - 60_000);
  utimesSync(join(sub, "TENCENTCLOUD_SECRET_KEY"), stamp, stamp);
  const src = secretCredentials(sub);
  expect(await src.get()).toEqual({ secretId: "id-c", secretKey: "key-c", token: "tok" });
  writeFileSync(join(sub, "TENCENTCLOUD_SECRET_ID"), "id-changed\n"); // the key file's time is what counts
  utimesSync(join(sub, "TENCENTCLOUD_SECRET_KEY"), stamp, stamp);
  expect(await src.get()).toEqual({ secretId: "id-c", secretKey: "key-c", token: "tok" });
  rmSync(join(sub, "TENCENTCLOUD_SECRET_ID"));
  utimesSync(join(sub, "TENCENTCLOUD_SECRET_KEY"), new Date(), new Date());
  await expect(src.get()).rejects.toThrow(
    `credentials: ${join(sub, "TENCENTCLOUD_SECRET_ID")} cannot be read (ENOENT)`,
  );
});
