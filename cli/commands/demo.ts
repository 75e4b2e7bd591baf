import { parseArgs } from "node:util";

export const help = `Usage: vpccni demo [--nodes N] [--pods N] [--no-kube]

Runs vpccni end to end on this machine, with no cloud account: an emulated
Tencent Cloud VPC, nodes and pods as network namespaces, a vpccni agent per
node, pods wired by the real CNI binary, a burst of pods and churn with live
pool figures, a TCP exchange between pods on two nodes, and a summary. Needs
root; without it, compiles the examples and runs the simulator. Uses a local
kube-apiserver for the Node objects when scripts/prereqs.sh has built one.

  --nodes N    nodes (default 2)
  --pods N     pods in the burst, spread over the nodes (default 24; at most
               25 per node)
  --no-kube    do not start the local kube-apiserver even when it is built
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: "string", default: "2" },
      pods: { type: "string", default: "24" },
      "no-kube": { type: "boolean", default: false },
    },
  });
  const nodes = Number(values.nodes);
  const pods = Number(values.pods);
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > 8) {
    process.stderr.write(`vpccni demo: --nodes is ${JSON.stringify(values.nodes)}; allowed: an integer from 2 to 8\n`);
    return 2;
  }
  if (!Number.isInteger(pods) || pods < nodes || pods > nodes * 25) {
    process.stderr.write(
      `vpccni demo: --pods is ${JSON.stringify(values.pods)}; allowed: an integer from ${nodes} to ${nodes * 25} (each node has 30 IPs, and churn adds 3)\n`,
    );
    return 2;
  }
  const demo = await import("../demo/run.ts");
  try {
    if (process.getuid?.() !== 0) return await demo.runWithoutRoot();
    return await demo.runDemo({ nodes, pods, kube: values["no-kube"] ? "off" : "auto" });
  } catch (error) {
    // A user sees one line with the cause; the stack is there for whoever debugs the demo.
    const e = error as Error;
    const debug = process.env.VPCCNI_DEBUG === "1";
    process.stderr.write(`vpccni demo: ${e.message}${debug ? `\n${e.stack}` : " (VPCCNI_DEBUG=1 prints the stack)"}\n`);
    return 1;
  }
}
