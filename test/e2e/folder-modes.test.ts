// The agent's state and socket are root's alone even when their folders were there first:
// the kubelet makes hostPath folders 0755, and an older agent may have left files 0644.
// docs/security.md#folder-and-file-modes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { EmulatedCluster } from "../../sandbox/emulated-cluster.ts";

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe("folder and file modes", () => {
  let world: EmulatedCluster;
  beforeAll(async () => {
    world = await EmulatedCluster.start({ nodes: 1 });
    const n = world.nodes[0]!;
    const state = join(n.dir, "state");
    for (const d of [state, dirname(n.socket)]) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
    writeFileSync(join(state, "node.db"), "", { mode: 0o644 });
    chmodSync(join(state, "node.db"), 0o644);
    await n.startAgent();
  }, 120_000);
  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  test("pre-created 0755 folders become 0700, the socket and every state file 0600", () => {
    const n = world.nodes[0]!;
    const state = join(n.dir, "state");
    const files = readdirSync(state);
    expect(files).toContain("node.db");
    expect({
      state: mode(state),
      run: mode(dirname(n.socket)),
      socket: mode(n.socket),
      files: Object.fromEntries(files.map((f) => [f, mode(join(state, f))])),
    }).toEqual({
      state: "700",
      run: "700",
      socket: "600",
      files: Object.fromEntries(files.map((f) => [f, "600"])),
    });
  });
});
