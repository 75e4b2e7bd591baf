import { parseArgs } from "node:util";

export const help = `Usage: vpccni demo [--nodes N] [--pods N] [--node-kind K] [--no-kube]

Runs vpccni end to end on this machine, with no cloud account: an emulated
Tencent Cloud VPC, nodes and pods as network namespaces, a vpccni agent per
node, a burst of pods and churn with live pool figures, a TCP exchange between
pods on two nodes, and a summary. Needs root; without it, compiles the
examples and runs the simulator.

Once scripts/prereqs.sh has built kubelet and scripts/build-image.sh the
image, the nodes are real: containerd and kubelet per node, a control plane,
kubelet runs the agents from the image, and a Deployment's pods are listed
with kubectl, talk TCP across nodes and scale down. Otherwise the agents run
as processes, the CNI binary wires the pods, and a local kube-apiserver holds
the Node objects when scripts/prereqs.sh has built one.

  --nodes N      nodes (default 2)
  --pods N       pods, spread over the nodes (default 24, 8 on real nodes; at
                 most 25 per node)
  --node-kind K  real: containerd + kubelet (fails when not built); emulated:
                 agents as processes; auto (default): real when built
  --no-kube      emulated nodes without the local kube-apiserver, even when
                 it is built
`;

const KINDS = ["auto", "real", "emulated"] as const;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: "string", default: "2" },
      pods: { type: "string" },
      "node-kind": { type: "string", default: "auto" },
      "no-kube": { type: "boolean", default: false },
    },
  });
  const usage = (line: string) => {
    process.stderr.write(`vpccni demo: ${line}\n`);
    return 2;
  };
  const nodes = Number(values.nodes);
  const kind = values["node-kind"] as (typeof KINDS)[number];
  if (!KINDS.includes(kind)) return usage(`--node-kind is ${JSON.stringify(kind)}; allowed: ${KINDS.join(", ")}`);
  if (kind === "real" && values["no-kube"]) return usage("--node-kind real runs Kubernetes; drop --no-kube");
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > 8)
    return usage(`--nodes is ${JSON.stringify(values.nodes)}; allowed: an integer from 2 to 8`);
  const given = Number(values.pods);
  if (values.pods !== undefined && (!Number.isInteger(given) || given < nodes || given > nodes * 25))
    return usage(
      `--pods is ${JSON.stringify(values.pods)}; allowed: an integer from ${nodes} to ${nodes * 25} (each node has 30 IPs, and churn adds 3)`,
    );
  const demo = await import("../demo/run.ts");
  try {
    if (process.getuid?.() !== 0) return await demo.runWithoutRoot();
    // real nodes when asked, or when everything they need is built; otherwise say why not
    const { missingForRealNodes } = await import("../demo/real-prereqs.ts");
    const missing = kind === "emulated" || values["no-kube"] ? null : missingForRealNodes();
    if (kind === "real" && missing) {
      process.stderr.write(`vpccni demo: real nodes need ${missing}\n`);
      return 1;
    }
    const real = kind === "real" || (kind === "auto" && !values["no-kube"] && !missing);
    const pods = values.pods === undefined ? (real ? 8 : 24) : given;
    if (real) return await (await import("../demo/real.ts")).runRealDemo({ nodes, pods });
    const flag = kind === "emulated" ? "--node-kind emulated" : values["no-kube"] ? "--no-kube" : null;
    const emulatedBecause = flag ? { flag } : { missing: missing! };
    return await demo.runDemo({ nodes, pods, kube: values["no-kube"] ? "off" : "auto", emulatedBecause });
  } catch (error) {
    // A user sees one line with the cause; the details and the stack are there for whoever
    // debugs the demo (a real node's failure carries the last lines of its logs).
    const e = error as Error;
    const debug = process.env.VPCCNI_DEBUG === "1";
    const first = e.message.split("\n")[0];
    process.stderr.write(
      `vpccni demo: ${debug ? `${e.message}\n${e.stack}` : `${first} (VPCCNI_DEBUG=1 prints the details and the stack)`}\n`,
    );
    return 1;
  }
}
