// One attempt of a node's API call in the fleet: wait for the node's budget (or the coordinator's
// slot), take an account token or answer RequestLimitExceeded and let the retry strategy decide,
// then go on to the sequence's next call, or finish the decision (fleet.ts owns the event loop).
import type { Decision, OperationResult } from "../runtime/pool/index.ts";
import type { FleetNode, FleetRun, Op } from "./fleet-node.ts";

/** The emulator's default async task times (emulator/config.ts asyncMs), ms per action. */
export const ASYNC_MS: Readonly<Record<string, number>> = {
  CreateNetworkInterface: 50,
  AttachNetworkInterface: 500,
  DetachNetworkInterface: 300,
  DeleteNetworkInterface: 50,
  AssignPrivateIpAddresses: 50,
  UnassignPrivateIpAddresses: 50,
};
/** Round trip of one API call, ms (the emulator answers at once; the cloud takes tens of ms). */
export const RTT_MS = 30;
export const TASK_POLL = "DescribeVpcTaskResult";

export function call(run: FleetRun, op: Op, t: number): void {
  const n = run.nodes[op.node] as FleetNode;
  const action = op.steps[op.step] as string;
  if (op.paced !== true) {
    const at = run.pacedAt(n, action, t);
    if (at > t) {
      op.paced = true;
      run.attempt(op, at);
      return;
    }
  }
  op.paced = false;
  if (!run.account.take(action, t)) {
    run.metrics.call(action, t - run.origin, true);
    op.failures++;
    const quota = run.strategy.retryQuota;
    const delay = run.strategy.delayMs(op.failures, run.jitterRng);
    const quotaOk = quota === undefined || n.retryTokens >= quota.cost;
    if (delay !== null && quotaOk) {
      if (quota !== undefined) n.retryTokens -= quota.cost;
      run.attempt(op, t + RTT_MS + delay);
      return;
    }
    if (op.decision === null) {
      op.failures = 0; // the agent restarts and reads its limits again: the pool cannot start without them
      run.attempt(op, t + RTT_MS + 10_000);
      return;
    }
    run.done(op, t + RTT_MS, { ok: false, error: { kind: "throttled" } });
    return;
  }
  run.metrics.call(action, t - run.origin, false);
  const quota = run.strategy.retryQuota;
  if (quota !== undefined) n.retryTokens = Math.min(quota.capacity, n.retryTokens + quota.refund);
  op.failures = 0;
  op.step++;
  // A task poll comes when the task is expected done; without polls the wait is the same.
  const nextAt = t + RTT_MS + (ASYNC_MS[action] ?? 0);
  if (op.step < op.steps.length) {
    run.attempt(op, nextAt);
  } else if (op.decision === null) {
    run.started(op, n, nextAt);
  } else {
    run.done(op, nextAt, run.succeed(op.decision));
  }
}

/** The cloud answering every decision: fresh IPs and ENI ids, numbered across the fleet. */
export function cloudAnswers(): (d: Decision) => OperationResult {
  let nextIp = 0;
  let nextEni = 0;
  const ips = (k: number) =>
    Array.from({ length: k }, () => {
      const x = nextIp++;
      return `10.${(x >> 16) & 255}.${(x >> 8) & 255}.${x & 255}`;
    });
  return (d) => {
    if (d.action === "bind") return { ok: true, ips: ips(d.count) };
    if (d.action === "create-eni") return { ok: true, eni: `eni-${(nextEni++).toString(36)}`, ips: ips(d.ips) };
    return { ok: true };
  };
}
