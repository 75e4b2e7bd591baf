// Test helpers for the fixed IP allocator: a two-subnet cluster and step unwrapping.
import { expect } from "bun:test";
import { bindNodeEni, eniReady } from "./node.ts";
import { createState } from "./state.ts";
import type { Decision, DecisionInput, FixedState, Reclaim, Step } from "./types.ts";

export const SUBNET_A = "subnet-aaaa";
export const SUBNET_B = "subnet-bbbb";

export function cluster(opts: { reclaim?: Reclaim; a?: number; b?: number } = {}): FixedState {
  return createState({
    reclaim: opts.reclaim ?? { kind: "Never" },
    subnets: {
      [SUBNET_A]: { cidr: "10.0.1.0/24", available: opts.a ?? 200 },
      [SUBNET_B]: { cidr: "10.0.2.0/24", available: opts.b ?? 100 },
    },
  });
}

/** The step's state and decisions; fails the test on a refusal. */
export function ok(step: Step): { state: FixedState; decisions: Decision[] } {
  if (!step.ok) throw new Error(`refused: ${step.refusal.code}: ${step.refusal.message}`);
  return step;
}

/** Decisions without their ids, for toEqual. */
export function actions(decisions: Decision[]): DecisionInput[] {
  return decisions.map(({ id, ...rest }) => {
    expect(id).toMatch(/^op-\d+$/);
    return rest as DecisionInput;
  });
}

/** A node whose ENI (eni-<node>) is bound and ready. */
export function withNode(s: FixedState, node: string, quota = 10): FixedState {
  return eniReady(ok(bindNodeEni(s, node, quota)).state, node, `eni-${node}`);
}
