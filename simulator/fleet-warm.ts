// A node that has been running for a while: its pods have IPs and its pool sits where the real
// engine leaves it. Built by running the engine itself with every cloud call answering at once,
// then letting its timers fire (releases down to pods + prebind.max) until nothing is left to do.
// And the pool a restarted agent starts from: the saved one, reconciled with the cloud.
import {
  allocate,
  applyResult,
  type Decision,
  nextWakeAt,
  type OperationResult,
  plan,
  type PoolState,
  type Rng,
  setSubnets,
  syncInventory,
} from "../runtime/pool/index.ts";

/**
 * The node's state at `untilMs` after `keys` asked for IPs at `fromMs` (nodes of one fleet came up
 * at different times, so their release cadences differ); `answer` is the cloud's answer
 * to each decision (fresh IPs, a fresh ENI id). Throws, naming the node's figures, when the pods
 * cannot all be served (more pods than the node may bind).
 */
export function warmState(
  fresh: PoolState,
  keys: readonly string[],
  fromMs: number,
  untilMs: number,
  answer: (d: Decision) => OperationResult,
  rng: Rng,
): PoolState {
  let s = fresh;
  let t = fromMs;
  let pending = [...keys];
  for (let round = 0; round < 10_000; round++) {
    const left: string[] = [];
    for (const key of pending) {
      const r = allocate(s, key, t, rng);
      s = r.state;
      if (!r.ok) left.push(key);
    }
    pending = left;
    const planned = plan(s, t);
    s = planned.state;
    for (const d of planned.decisions) s = applyResult(s, d.id, answer(d), t, { rng });
    if (planned.decisions.length > 0) continue;
    if (pending.length > 0) break;
    const wake = nextWakeAt(s, t);
    if (wake === null || wake >= untilMs) return s;
    t = wake;
  }
  throw new Error(
    `a warm node cannot hold ${keys.length} pods: ${pending.length} got no IP; allowed: at most the node's maxBindable`,
  );
}

/**
 * A restarted agent's pool: its saved state reconciled with what the cloud lists, as the agent
 * does at start (runtime/agent/agent.ts). The cloud lists what the saved pool holds: the calls
 * in flight at the stop went through (the graceful stop waits for them, or their journaled
 * intent is replayed with its ClientToken).
 */
export function reconciled(saved: PoolState, subnets: Record<string, number>): PoolState {
  const inventory = saved.enis.map((e) => ({
    id: e.id,
    subnet: e.subnet,
    primary: e.primary,
    ips: e.ips.map((x) => x.ip),
  }));
  return syncInventory(setSubnets(saved, subnets), inventory).state;
}
