// Every user-facing command of vpccni. A command module exports `help` (its usage text)
// and `run(argv)`, which parses argv with node:util parseArgs and returns the exit code.
import { basename, dirname, join } from "node:path";

export interface CommandModule {
  help: string;
  run(argv: string[]): Promise<number>;
}

export interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Record<string, Command> = guarded({
  init: {
    summary: "start a GitOps repository: policies/, deploy/, argocd/, flux/, a CI workflow",
    load: () => import("./commands/init.ts"),
  },
  validate: { summary: "check policies and print located diagnostics", load: () => import("./commands/validate.ts") },
  compile: {
    summary: "compile policies into manifests for Argo CD / Flux (--check: is the output current?)",
    load: () => import("./commands/compile.ts"),
  },
  plan: {
    summary: "check subnets and ENI quotas against expected nodes and pods (capacity plan)",
    load: () => import("./commands/plan.ts"),
  },
  schema: { summary: "print the VpcCniPolicy JSON Schema", load: () => import("./commands/schema.ts") },
  emulator: {
    summary: "run the local Tencent Cloud VPC + metadata emulator",
    load: () => import("./commands/emulator.ts"),
  },
  simulate: {
    summary: "replay a pod churn trace through the IP pool engine and chart it",
    load: () => import("./commands/simulate.ts"),
  },
  demo: {
    summary: "run vpccni end to end on this machine: emulated cloud, namespaces, agents, pods",
    load: () => import("./commands/demo.ts"),
  },
  agent: { summary: "run the node agent (the DaemonSet's process)", load: () => import("./commands/agent.ts") },
  controller: {
    summary: "run the cluster component: the eni-ip admission webhook (the Deployment's process)",
    load: () => import("./commands/controller.ts"),
  },
  status: { summary: "show this node's IP pool from the local agent", load: () => import("./commands/status.ts") },
  cleanup: {
    summary: "list (--delete: remove) the ENIs an uninstall left in the cloud",
    load: () => import("./commands/cleanup.ts"),
  },
});

/**
 * The npm package installs only the dependencies of init, validate, compile, plan, schema,
 * status and emulator, and leaves out the demo. Any other command (the agent, simulate's charts,
 * `plan --cloud`, the demo) says so in one line, whether loading or running fails: which
 * command, what is missing, and where it runs. Never a stack trace.
 */
function guarded(table: Record<string, Command>): Record<string, Command> {
  const out: Record<string, Command> = {};
  for (const [name, command] of Object.entries(table)) {
    const load = async (): Promise<CommandModule> => {
      let module: CommandModule;
      try {
        module = await command.load();
      } catch (error) {
        const line = unavailable(name, error);
        if (line === undefined) throw error;
        return { help: line, run: async () => fail(line) };
      }
      const run = async (argv: string[]): Promise<number> => {
        try {
          return await module.run(argv);
        } catch (error) {
          const line = unavailable(name, error);
          if (line === undefined) throw error;
          return fail(line);
        }
      };
      return { help: module.help, run };
    };
    out[name] = { summary: command.summary, load };
  }
  return out;
}

function fail(line: string): number {
  process.stderr.write(line);
  return 1;
}

/** This copy of vpccni was installed by npm (not a checkout, not the compiled binary). */
const INSTALLED = basename(dirname(join(import.meta.dir, ".."))) === "node_modules";

/** The one line for a package (or, in the npm package, a file) that is not there; else undefined. */
export function unavailable(command: string, error: unknown, installed = INSTALLED): string | undefined {
  const message = String((error as { message?: unknown } | undefined)?.message ?? "");
  const pkg = /Cannot find package '([^']+)'/.exec(message)?.[1];
  if (pkg !== undefined)
    return `vpccni ${command}: needs the package ${pkg}, which the vpccni npm package does not install; run it from the vpccni image or a vpccni checkout (npm ci)\n`;
  const file = /Cannot find module '(\.[^']+)'/.exec(message)?.[1];
  if (file !== undefined && installed)
    return `vpccni ${command}: not in the vpccni npm package (${file} is left out); run it from a vpccni checkout (npm ci)\n`;
  return undefined;
}
