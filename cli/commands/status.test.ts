// `vpccni status` against a stand-in agent on a unix socket: the output formats and exit codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../../sandbox/exec.ts";
import { makeTempDir } from "../../sandbox/janitor.ts";

const MAIN = join(import.meta.dir, "..", "main.ts");
// Only what --output json passes through; the text rendering is tested against a real agent
// (test/e2e/agent.test.ts).
const VIEW = { node: "node-a", enis: [], pods: [], summary: { bound: 0, pods: 0 } };

let socket: string;
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  socket = join(makeTempDir("status-cli"), "agent.sock");
  server = Bun.serve({
    unix: socket,
    fetch: (req) =>
      new URL(req.url).pathname === "/v1/pool" ? Response.json(VIEW) : new Response("no", { status: 404 }),
  });
});

afterAll(() => server.stop(true));

const status = (...args: string[]) => run([process.execPath, MAIN, "status", "--socket", socket, ...args]);

describe("vpccni status", () => {
  test("--output json prints the agent's view as one document; --json says the same", async () => {
    const r = await status("--output", "json");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(r.stdout)).toEqual(VIEW);
    expect(await status("--json")).toEqual(r);
  });

  test("--output text with --json, or --output yaml, is a usage error; no agent exits 1", async () => {
    const both = await status("--output", "text", "--json");
    expect({ code: both.code, stderr: both.stderr }).toEqual({
      code: 2,
      stderr: "vpccni status: --output text and --json ask for different formats; allowed: one of them\n",
    });
    expect((await status("--output", "yaml")).code).toBe(2);
    const none = await run([process.execPath, MAIN, "status", "--socket", `${socket}.gone`, "--output", "json"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toStartWith(`vpccni status: no agent at ${socket}.gone`);
  });
});
