// A node whose credentials Secret is not there yet: the agent waits, says why, makes no cloud
// call, and goes on by itself once the kubelet has put the keys into the mounted folder.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EmulatedCluster, waitFor } from "../../sandbox/emulated-cluster.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";

let world: EmulatedCluster;
/** Cloud API calls the emulator has answered so far, all actions and outcomes. */
const cloudCalls = () =>
  Object.values(world.emulator.admin.stats())
    .flatMap((codes) => Object.values(codes))
    .reduce((a, b) => a + b, 0);
let secretDir: string;

beforeAll(async () => {
  secretDir = join(makeTempDir("secret"), "credentials");
  mkdirSync(secretDir, { recursive: true }); // an optional Secret that does not exist: an empty folder
  world = await EmulatedCluster.start({ nodes: 1, agentArgs: ["--credentials-dir", secretDir] });
}, 120_000);

afterAll(async () => {
  await world?.stop();
});

test("an empty credentials Secret: the agent waits without cloud calls, then starts once the keys appear", async () => {
  const node = world.nodes[0]!;
  const before = cloudCalls();
  const started = node.startAgent();
  await waitFor(
    "the agent to say it waits for credentials",
    () => node.agentLog().includes('"msg":"waiting for credentials"'),
    30_000,
  );
  const line = node
    .agentLog()
    .split("\n")
    .find((l) => l.includes('"msg":"waiting for credentials"'))!;
  expect(line).toContain(
    `${secretDir}/TENCENTCLOUD_SECRET_KEY cannot be read (ENOENT); the Secret needs keys TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY`,
  );
  // still alive, still waiting, and the cloud heard nothing from it
  await Bun.sleep(300);
  expect(node.agentLog()).not.toContain('"msg":"agent failed to start"');
  expect(cloudCalls()).toBe(before);
  // the kubelet projects the Secret's keys
  writeFileSync(join(secretDir, "TENCENTCLOUD_SECRET_ID"), world.emulator.credentials.secretId);
  writeFileSync(join(secretDir, "TENCENTCLOUD_SECRET_KEY"), world.emulator.credentials.secretKey);
  await started;
  expect(node.agentLog()).toContain('"msg":"credentials found"');
  await waitFor("the first prebind", async () => (await node.view()).summary.bound >= 5, 60_000);
}, 120_000);
