// ENIs of nodes that left the cluster (a scaled-in CVM, a deleted Node): their agent is gone, so
// nobody else removes them. The controller's leader finds them by the cluster tag, keeps every
// ENI whose node tag names a Node that still exists (that node's agent owns it), and removes the
// others through the cleanup rules `vpccni cleanup` uses: never a primary ENI, never an attached
// one, never one younger than the age guard, and each one read again just before.
import { TAG_NODE } from "../../schema/names.ts";
import { applyCleanup, type EniDecision, findClusterEnis, planCleanup, type StepResult } from "../cloud/cleanup.ts";
import type { Eni, VpcApi } from "../cloud/types.ts";

export interface SweepOptions {
  now: number;
  /** ENIs younger than this are kept (default 10 minutes in the controller). */
  guardMs: number;
}

/** Pure: the cluster's ENIs and the live Node names in, a decision for each departed node's ENI out. */
export function planDepartedSweep(
  enis: readonly Eni[],
  liveNodes: ReadonlySet<string>,
  opts: SweepOptions,
): EniDecision[] {
  const departed = enis.filter((e) => {
    const node = e.tags[TAG_NODE];
    return node !== undefined && node !== "" && !liveNodes.has(node);
  });
  return planCleanup(departed, { now: opts.now, olderThanMs: opts.guardMs, forceAttached: false });
}

export interface SweepLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** One pass: list, decide, remove. Returns what was done, step by step. */
export async function sweepDepartedEnis(deps: {
  api: VpcApi;
  clusterId: string;
  nodeNames: () => Promise<string[]>;
  log: SweepLog;
  opts: SweepOptions;
}): Promise<StepResult[]> {
  // Nodes first: an ENI created after the listing belongs to a node that exists by then
  const live = new Set(await deps.nodeNames());
  const enis = await findClusterEnis(deps.api, deps.clusterId);
  const plan = planDepartedSweep(enis, live, deps.opts);
  const cleanup = { now: deps.opts.now, olderThanMs: deps.opts.guardMs, forceAttached: false };
  return applyCleanup(deps.api, plan, cleanup, (r) => {
    const fields = { eni: r.eniId, action: r.action, detail: r.detail };
    if (r.ok && r.action === "delete") deps.log.info("deleted an ENI of a node that left the cluster", fields);
    else if (!r.ok) deps.log.warn("could not remove an ENI of a node that left the cluster", fields);
  });
}
