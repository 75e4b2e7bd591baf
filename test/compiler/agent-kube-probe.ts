// Runs in a child Bun process (client-node reads NODE_EXTRA_CA_CERTS only at start-up): the
// node agent's own Kubernetes client (runtime/kube) makes each of its calls with the agent's
// ServiceAccount token from KUBECONFIG, and prints the outcome of each as one JSON line.
import { KubeClient } from "../../runtime/kube/client.ts";

const node = process.env.PROBE_NODE!;
const other = process.env.PROBE_OTHER_NODE!;
const kube = KubeClient.load(process.env.KUBECONFIG);
const outcome = async (call: () => Promise<unknown>) => {
  try {
    await call();
    return "ok";
  } catch (error) {
    const code = (error as { code?: number }).code;
    return `failed ${code ?? (error as Error).message}`;
  }
};
const drained = { type: "VpccniDrained", status: "True" as const, reason: "Drained", message: "probe" };
const out = {
  setEniIpResource: await outcome(() => kube.setEniIpResource(node, { capacity: 40, allocatable: 12 })),
  // fixed IP mode: none exist here; a denial would throw (403), a missing object is null
  missingClaim: await kube.getClaim(process.env.PROBE_NAMESPACE!, "no-such-pod").then(
    (c) => c,
    (e: { code?: number }) => `failed ${e.code}`,
  ),
  missingNodeEniConfig: await kube.getNodeEniConfig(other).then(
    (c) => c,
    (e: { code?: number }) => `failed ${e.code}`,
  ),
  nodeEvent: await outcome(() => kube.nodeEvent(node, "Normal", "ProbeEvent", "the agent's client under its own RBAC")),
  setNodeCondition: await outcome(() => kube.setNodeCondition(node, drained)),
  otherNodeStatus: await outcome(() => kube.setEniIpResource(other, { capacity: 1, allocatable: 1 })),
  otherNodeCondition: await outcome(() => kube.setNodeCondition(other, drained)),
};
process.stdout.write(`${JSON.stringify(out)}\n`);
