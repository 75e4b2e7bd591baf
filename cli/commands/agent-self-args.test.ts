// The agent restarts itself once to trust the cluster CA (NODE_EXTRA_CA_CERTS is read only at
// process start): the same command line must come back, from `bun cli/main.ts` and from the
// image's compiled binary alike (test/node/agent-container.test.ts runs the latter for real).
import { expect, test } from "bun:test";
import { selfArgs } from "./agent.ts";

test("a compiled binary's embedded entry point is not passed again; a script's path is", () => {
  expect(selfArgs(["bun", "/$bunfs/root/vpccni", "agent", "--policy=/p.yaml"])).toEqual(["agent", "--policy=/p.yaml"]);
  expect(selfArgs(["/usr/bin/bun", "/repo/cli/main.ts", "agent", "--no-kube"])).toEqual([
    "/repo/cli/main.ts",
    "agent",
    "--no-kube",
  ]);
});
