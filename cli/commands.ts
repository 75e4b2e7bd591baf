// Every user-facing command of vpccni. A command module exports `help` (its usage text)
// and `run(argv)`, which parses argv with node:util parseArgs and returns the exit code.
export interface CommandModule {
  help: string;
  run(argv: string[]): Promise<number>;
}

export interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Record<string, Command> = {
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
  status: { summary: "show this node's IP pool from the local agent", load: () => import("./commands/status.ts") },
};
