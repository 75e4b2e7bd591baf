// The introspection view served on the agent's socket (GET /v1/pool) and rendered by
// `vpccni status`: per ENI what is bound and assigned and which route table it uses, the pods,
// and what the agent is doing in the cloud right now.
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import {
  extendedResource,
  type PoolState,
  summary,
  type PoolSummary,
  type ExtendedResource,
  type Operation,
} from "../pool/index.ts";

export interface EniView {
  id: string;
  subnet: string;
  mac: string | null;
  link: string | null;
  routeTable: number | null;
  bound: number;
  assigned: number;
  idle: number;
  deleting: boolean;
}

export interface PoolView {
  version: "vpccni-introspect/1";
  node: string;
  instanceId: string;
  policy: string;
  summary: PoolSummary;
  extendedResource: ExtendedResource;
  enis: EniView[];
  pods: { key: string; ip: string; eni: string }[];
  inflight: Operation[];
  /** Only while the policy switches vpccni off: draining, or drained (nothing of vpccni's left). */
  switchOff?: "draining" | "drained";
  /**
   * Only in fixed IP mode: the cluster controller owns the addresses, so there is no pool; the
   * view lists the node's ENI (bound = assigned = its pods) and `summary.maxBindable` is its quota.
   */
  ipMode?: "fixed";
}

export interface LinkInfo {
  mac: string;
  link: string;
  routeTable: number;
}

export function poolView(input: {
  node: string;
  instanceId: string;
  policy: string;
  state: PoolState;
  links: ReadonlyMap<string, LinkInfo>;
  now: number;
  switchOff?: "draining" | "drained";
}): PoolView {
  const { state } = input;
  return {
    version: "vpccni-introspect/1",
    node: input.node,
    instanceId: input.instanceId,
    policy: input.policy,
    summary: summary(state, input.now),
    extendedResource: extendedResource(state),
    enis: state.enis
      .filter((e) => !e.primary)
      .map((e) => {
        const link = input.links.get(e.id);
        const assigned = e.ips.filter((s) => s.pod !== null).length;
        return {
          id: e.id,
          subnet: e.subnet,
          mac: link?.mac ?? null,
          link: link?.link ?? null,
          routeTable: link?.routeTable ?? null,
          bound: e.ips.filter((s) => !s.releasing).length,
          assigned,
          idle: e.ips.length - assigned,
          deleting: e.deleting,
        };
      }),
    pods: Object.entries(state.pods)
      .map(([key, a]) => ({ key, ip: a.ip, eni: a.eni }))
      .sort((a, b) => a.key.localeCompare(b.key)),
    inflight: state.inflight,
    ...(input.switchOff ? { switchOff: input.switchOff } : {}),
  };
}

/** `vpccni status` output: a summary line and one row per ENI. */
export function renderPoolView(view: PoolView): string {
  const s = view.summary;
  const head = [
    `node ${view.node} (${view.instanceId}), policy ${view.policy}`,
    `pods ${s.pods}  bound ${s.bound}/${s.maxBindable}  idle ${s.idle} (ready ${s.ready})  waiting ${s.waiting}  ENIs ${s.enis}  in flight ${s.inflight}`,
    `${ENI_IP_RESOURCE}: allocatable ${view.extendedResource.allocatable}, capacity ${view.extendedResource.capacity}`,
    ...(view.switchOff === undefined
      ? []
      : [
          view.switchOff === "drained"
            ? "switched off: drained, nothing of vpccni's left on this node"
            : "switched off: draining, new pods are refused; the node drains once its last vpccni pod is gone",
        ]),
  ];
  const rows = [["ENI", "SUBNET", "LINK", "TABLE", "BOUND", "ASSIGNED", "IDLE", ""]];
  for (const e of view.enis) {
    rows.push([
      e.id,
      e.subnet,
      e.link ?? "-",
      e.routeTable === null ? "-" : String(e.routeTable),
      String(e.bound),
      String(e.assigned),
      String(e.idle),
      e.deleting ? "deleting" : "",
    ]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const table = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
  const ops = view.inflight.map((op) => `  in flight: ${op.decision.id} ${op.decision.action}`);
  return `${[...head, "", ...table, ...ops].join("\n")}\n`;
}
