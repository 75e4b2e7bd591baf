import { parseArgs } from "node:util";
import { type PoolView, renderPoolView } from "../../runtime/agent/introspect.ts";
import { DEFAULT_SOCKET } from "../../runtime/cni/protocol.ts";
import { OUTPUT_OPTION, outputFormat, writeJson } from "../output.ts";

export const help = `Usage: vpccni status [--socket PATH] [--output text|json]

Shows the node's IP pool as the local agent sees it: per ENI the bound,
assigned and idle IPs and the route table, the pods, and cloud operations in
flight. Reads the agent's unix socket (default ${DEFAULT_SOCKET}; root only).
--output json (or --json) prints the agent's view as one JSON document.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      socket: { type: "string", default: DEFAULT_SOCKET },
      json: { type: "boolean", default: false },
      ...OUTPUT_OPTION,
    },
  });
  const format = outputFormat(values.output, { flag: "--json", format: values.json ? "json" : undefined });
  if (typeof format !== "string") {
    process.stderr.write(`vpccni status: ${format.error}\n`);
    return 2;
  }
  const socket = values.socket as string;
  let view: PoolView;
  try {
    const res = await fetch("http://agent/v1/pool", { unix: socket, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    view = (await res.json()) as PoolView;
  } catch (error) {
    process.stderr.write(`vpccni status: ${whyNoAgent(socket, error as Error & { code?: string })}\n`);
    return 1;
  }
  if (format === "json") writeJson(view);
  else process.stdout.write(renderPoolView(view));
  return 0;
}

/** One line a user can act on, for each way the agent's socket can fail. */
function whyNoAgent(socket: string, error: Error & { code?: string }): string {
  switch (error.code) {
    case "ENOENT":
    case "ECONNREFUSED":
      return `no agent at ${socket}: is \`vpccni agent\` running on this node? (--socket names another path)`;
    case "EACCES":
    case "EPERM":
      return `no access to the agent's socket ${socket} (mode 0600, root only): run as root`;
    default:
      return `cannot read the agent at ${socket}: ${error.message}`;
  }
}
