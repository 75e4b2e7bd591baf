// The DaemonSet's side of the contract against the real programs: `vpccni agent` accepts the
// arguments the compiler writes, and the CNI plugin accepts the conflist's vpccni entry.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { conflist } from "../../compiler/conflist.ts";
import { agentArgs, PATHS } from "../../compiler/agent-contract.ts";
import { parseNetConf } from "../../runtime/cni/config.ts";
import { DEFAULT_SOCKET } from "../../runtime/cni/protocol.ts";
import { run } from "../../sandbox/exec.ts";
import { REPO } from "./deploy-kit.ts";

const agent = (args: string[]) =>
  run([process.execPath, join(REPO, "cli", "main.ts"), ...args], { env: { NODE_NAME: "" } });

describe("agent contract", () => {
  test("vpccni agent parses every argument the DaemonSet passes (it stops only at the missing NODE_NAME)", async () => {
    for (const credentials of [true, false]) {
      const res = await agent(agentArgs({ credentials }));
      expect({ code: res.code, stderr: res.stderr }).toEqual({
        code: 2,
        stderr: "vpccni agent: --node-name (or NODE_NAME) is required; the DaemonSet sets it from spec.nodeName\n",
      });
    }
    // The same probe notices an argument the agent does not know.
    const unknown = await agent([...agentArgs({ credentials: false }), "--no-such-flag"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).not.toContain("--node-name (or NODE_NAME) is required");
  });

  test("the CNI plugin accepts the conflist's vpccni entry and finds the agent's socket", () => {
    const list = JSON.parse(conflist()) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const [vpccni, portmap] = list.plugins;
    const netconf = parseNetConf(JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...vpccni }));
    expect(netconf.socket).toBe(PATHS.socket);
    expect(PATHS.socket).toBe(DEFAULT_SOCKET);
    expect(portmap).toEqual({ capabilities: { portMappings: true }, type: "portmap" });
  });

  test("in mixed mode the plugin accepts the conflist's vpccni entry and finds the kept delegate", () => {
    const list = JSON.parse(conflist({ mode: "mixed", cniConfDir: "/etc/containerd/net.d" })) as {
      cniVersion: string;
      name: string;
      plugins: Record<string, unknown>[];
    };
    expect(list.plugins).toHaveLength(1);
    const netconf = parseNetConf(JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] }));
    expect(netconf.socket).toBe(PATHS.socket);
    expect(netconf.delegate).toEqual({ conflist: "/etc/containerd/net.d/vpccni/delegate.conflist" });
  });
});
