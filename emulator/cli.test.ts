// `vpccni emulator` as a user runs it: a separate process, driven by the real SDK.
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Emulator } from "./server.ts";
import { sdk } from "./sdk-kit.ts";

const root = join(import.meta.dir, "..");
const bun = process.execPath;

test("--print-world prints the default world for --instances N and exits 0", async () => {
  const p = Bun.spawn([bun, "cli/main.ts", "emulator", "--print-world", "--instances", "3"], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, TENCENTCLOUD_SECRET_ID: "AKIDfromenv", TENCENTCLOUD_SECRET_KEY: "k" },
  });
  const world = JSON.parse(await new Response(p.stdout).text());
  expect(await p.exited).toBe(0);
  expect(world.instances).toHaveLength(3);
  expect(world.subnets.map((s: { name: string }) => s.name)).toEqual([
    "nodes",
    "pods-large",
    "pods-small",
    "nodes-4",
    "pods-4",
  ]);
  expect(world.credentials).toEqual([{ secretId: "AKIDfromenv" }]);
  expect(JSON.stringify(world)).not.toContain('"k"');
});

test("a bad option or config file is refused with the value and what is allowed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "emu-cli-"));
  try {
    writeFileSync(join(dir, "c.yaml"), "settings: { maxIpsPerCall: 0 }\n");
    const bad = Bun.spawn([bun, "cli/main.ts", "emulator", "--config", join(dir, "c.yaml"), "--print-world"], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await bad.exited).toBe(1);
    expect(await new Response(bad.stderr).text()).toContain("settings.maxIpsPerCall");
    const port = Bun.spawn([bun, "cli/main.ts", "emulator", "--instances", "x"], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await port.exited).toBe(2);
    expect(await new Response(port.stderr).text()).toContain("--instances is 'x'; allowed: an integer from 0 to 1000");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the served emulator answers the real SDK with the credentials it wrote to --info, and stops on SIGTERM", async () => {
  const dir = mkdtempSync(join(tmpdir(), "emu-cli-"));
  const infoPath = join(dir, "info.json");
  const env = { ...process.env };
  delete env.TENCENTCLOUD_SECRET_ID;
  delete env.TENCENTCLOUD_SECRET_KEY;
  const p = Bun.spawn([bun, "cli/main.ts", "emulator", "--instances", "1", "--info", infoPath], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env,
  });
  try {
    const reader = p.stdout.getReader();
    let out = "";
    while (!out.includes("subnet") || !out.endsWith("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    for (let i = 0; i < 100 && !existsSync(infoPath); i++) await Bun.sleep(10);
    const info = JSON.parse(readFileSync(infoPath, "utf8"));
    expect(statSync(infoPath).mode & 0o777).toBe(0o600);
    expect(out).toContain(`TENCENTCLOUD_SECRET_ID=${info.secretId}`);
    const emu = {
      endpoint: info.endpoint,
      region: info.region,
      credentials: { secretId: info.secretId, secretKey: info.secretKey },
    } as Emulator;
    expect((await sdk(emu).DescribeNetworkInterfaceLimit({ InstanceId: info.instances[0] })).EniQuantity).toBe(4);
    expect(await (await fetch(info.metadataUrls[info.instances[0]] + "instance-id")).text()).toBe(info.instances[0]);
  } finally {
    p.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  expect(await p.exited).toBe(0);
});
