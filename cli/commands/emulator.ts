// `vpccni emulator`: runs the local Tencent Cloud VPC + instance metadata emulator.
import { renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

export const help = `Usage: vpccni emulator [--port P] [--host H] [--state FILE] [--config FILE]
                       [--instances N] [--info FILE] [--print-world]

Serves the Tencent Cloud VPC API (2017-03-12, TC3-HMAC-SHA256) and
per-instance metadata on loopback, for tests and demos without a cloud
account. See docs/emulator.md.

Options:
  --port P         port to listen on (default 0: a free port, printed at start)
  --host H         address to bind (default 127.0.0.1)
  --state FILE     persist the state here; a restart with the same file
                   continues from it
  --config FILE    YAML or JSON: world, settings, faults (default: the
                   built-in world)
  --instances N    instances in the default world (default 2)
  --info FILE      once listening, write JSON {url, endpoint, region,
                   secretId, secretKey, adminToken, instances, metadataUrls}
                   here (mode 0600), for scripts
  --print-world    print the world as JSON and exit
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        state: { type: "string" },
        config: { type: "string" },
        instances: { type: "string" },
        info: { type: "string" },
        "print-world": { type: "boolean", default: false },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`vpccni emulator: ${(e as Error).message}\n\n${help}`);
    return 2;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return usageError(`--port is '${values.port}'; allowed: an integer from 0 to 65535`);
  const instances = values.instances === undefined ? undefined : Number(values.instances);
  if (instances !== undefined && (!Number.isInteger(instances) || instances < 0 || instances > 1000))
    return usageError(`--instances is '${values.instances}'; allowed: an integer from 0 to 1000`);
  const { startEmulator, initialState, inventoryOf, loadConfigFile } = await import("../../emulator/index.ts");
  let config;
  try {
    config = values.config === undefined ? undefined : loadConfigFile(values.config);
  } catch (e) {
    process.stderr.write(`vpccni emulator: ${(e as Error).message}\n`);
    return 1;
  }
  if (values["print-world"]) {
    const state = initialState({ config, instances });
    process.stdout.write(
      JSON.stringify(
        { ...inventoryOf(state), credentials: state.credentials.map((c) => ({ secretId: c.secretId })) },
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  const emu = await startEmulator({ port, hostname: values.host, config, instances, statePath: values.state });
  const world = emu.inventory();
  const fromEnv = process.env.TENCENTCLOUD_SECRET_ID === emu.credentials.secretId;
  // The generated key is printed once, on purpose: it is the only way to learn it. A key from
  // the environment is never echoed.
  const lines = [
    `vpccni emulator listening on ${emu.url} (region ${emu.region})`,
    `  endpoint (SDK httpProfile.endpoint, protocol http://): ${emu.endpoint} (sign as the vpc service: docs/emulator.md)`,
    fromEnv
      ? "  credentials: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY from the environment"
      : `  TENCENTCLOUD_SECRET_ID=${emu.credentials.secretId}\n  TENCENTCLOUD_SECRET_KEY=${emu.credentials.secretKey}`,
    `  admin API: ${emu.url}/_emulator/ with 'Authorization: Bearer ${emu.adminToken}'`,
    ...world.instances.map(
      (i) => `  instance ${i.instanceId} (${i.instanceType}, ${i.zone}) metadata: ${emu.metadataUrl(i.instanceId)}`,
    ),
    ...world.subnets.map((s) => `  subnet ${s.subnetId} ${s.cidrBlock} ${s.zone} ${s.name}`),
  ];
  process.stdout.write(lines.join("\n") + "\n");
  if (values.info !== undefined) {
    const info = {
      url: emu.url,
      endpoint: emu.endpoint,
      region: emu.region,
      ...emu.credentials,
      adminToken: emu.adminToken,
      instances: world.instances.map((i) => i.instanceId),
      metadataUrls: Object.fromEntries(world.instances.map((i) => [i.instanceId, emu.metadataUrl(i.instanceId)])),
    };
    // Through a rename, so that a script waiting for the file never reads half of it.
    writeFileSync(`${values.info}.tmp`, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
    renameSync(`${values.info}.tmp`, values.info);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await emu.stop();
  return 0;
}

function usageError(message: string): number {
  process.stderr.write(`vpccni emulator: ${message}\n`);
  return 2;
}
