// What the switch-off suites (shared and fixed IP mode) check on a node: everything its kernel
// holds of vpccni's, and the Node's VpccniDrained condition and eni-ip figures.
import type { EmulatedNode } from "../../sandbox/emulated-cluster.ts";
import { kubeCall } from "../../sandbox/kube-api.ts";
import type { Kubeconfig } from "../../sandbox/kubeconfig.ts";
import { DRAINED_CONDITION } from "../../schema/names.ts";

/** Everything the node namespace holds of vpccni's: rules, ENI tables, ENI links, veths. */
export async function vpccniKernelState(node: EmulatedNode) {
  const [rules, routes, links] = await Promise.all(
    [
      ["ip", "-json", "rule", "show"],
      ["ip", "-json", "route", "show", "table", "all"],
      ["ip", "-json", "link", "show"],
    ].map(async (cmd) => JSON.parse((await node.world.bed.exec(node.ns.ns, cmd)).stdout || "[]")),
  );
  return {
    rules: (rules as { priority: number }[]).filter((r) => r.priority === 512 || r.priority === 1536),
    tables: [
      ...new Set(
        (routes as { table?: string }[]).map((r) => Number(r.table)).filter((t) => Number.isInteger(t) && t >= 2000),
      ),
    ],
    // ENI links (eth1, eth2... as the fabric names them) and pod veths (vpc + hash)
    links: (links as { ifname: string }[])
      .map((l) => l.ifname)
      .filter((n) => /^(eth[1-9]\d*|vpc[0-9a-f]{12})$/.test(n)),
  };
}

/** The Node's VpccniDrained condition and its allocatable resources. */
export async function drainedCondition(admin: Kubeconfig, node: EmulatedNode) {
  const n = await kubeCall(admin, "GET", `/api/v1/nodes/${node.name}`);
  const list = (n.json.status?.conditions ?? []) as { type: string; status: string; reason: string; message: string }[];
  return { drained: list.find((c) => c.type === DRAINED_CONDITION), allocatable: n.json.status?.allocatable };
}
