// Server side of the CNI socket, shared by the agent and the test scaffolding: a fresh
// unix socket, mode 0600 in a 0700 directory, so only root talks to the agent.
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { cniCalls } from "./calls.ts";
import { protocolHandler, type CniAgentApi } from "./protocol.ts";

export interface CniServer {
  socket: string;
  stop(): Promise<void>;
}

/** `extra` answers routes beside the CNI protocol (the agent's introspection); undefined passes on. */
export function serveCni(socket: string, api: CniAgentApi, extra?: (req: Request) => Response | undefined): CniServer {
  mkdirSync(dirname(socket), { recursive: true, mode: 0o700 });
  rmSync(socket, { force: true }); // a socket left by a crashed agent would refuse the bind
  const cni = protocolHandler(api);
  // The exec shim's calls (calls.ts), run here against the same API.
  const calls = cniCalls(api);
  const server = Bun.serve({ unix: socket, fetch: (req) => extra?.(req) ?? calls(req) ?? cni(req) });
  chmodSync(socket, 0o600);
  return {
    socket,
    async stop() {
      await server.stop(true);
      rmSync(socket, { force: true });
    },
  };
}
