// A TCP exchange between two pod sandboxes of (possibly different) containerd runtimes: a Bun
// listener in the server pod's netns answers `pong from <its address>`, and reports the
// client address it saw, so the test proves both directions and that no NAT rewrote anything.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Containerd, PodStatus } from "../../sandbox/containerd.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";
import { spawnManaged } from "../../sandbox/process.ts";
import { waitFor } from "../../sandbox/emulated-cloud.ts";

const PORT = 7070;

const SERVER = `
Bun.listen({ hostname: "0.0.0.0", port: ${PORT}, socket: {
  data(s) { console.log("client " + s.remoteAddress); s.write("pong from " + s.localAddress); s.end(); },
} });
console.log("listening");
`;

const CLIENT = `
const reply = await new Promise((resolve, reject) => {
  Bun.connect({ hostname: process.env.TARGET, port: ${PORT}, socket: {
    open(s) { s.write("ping"); },
    data(s, d) { resolve(String(d)); s.end(); },
    error(s, e) { reject(e); },
    connectError(s, e) { reject(e); },
  } }).catch(reject);
});
console.log(reply);
`;

export async function podTcpExchange(
  serverRt: Containerd,
  server: PodStatus,
  clientRt: Containerd,
  client: PodStatus,
): Promise<{ serverSaw: string; clientGot: string }> {
  const dir = makeTempDir("tcp");
  const log = join(dir, "server.log");
  const proc = spawnManaged(
    `tcp-${server.name}`,
    ["nsenter", `--net=${serverRt.podNetns(server)}`, "--", process.execPath, "-e", SERVER],
    { log },
  );
  try {
    await waitFor(`the listener in ${server.name}`, () => readFileSync(log, "utf8").includes("listening"), 10_000);
    const r = await clientRt.execInPod(client, ["env", `TARGET=${server.ip}`, process.execPath, "-e", CLIENT]);
    if (r.code !== 0) throw new Error(`client in ${client.name} failed (${r.code}): ${r.stderr}`);
    await waitFor(`the listener to log its client`, () => readFileSync(log, "utf8").includes("client "), 5_000);
    const serverSaw = /client (\S+)/.exec(readFileSync(log, "utf8"))?.[1] ?? "";
    return { serverSaw, clientGot: r.stdout.trim() };
  } finally {
    await proc.stop(2_000);
    rmSync(dir, { recursive: true, force: true });
  }
}
