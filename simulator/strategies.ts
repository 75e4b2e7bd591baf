// The pool settings each compared strategy runs with. vpccni runs the policy as written; the
// AWS-style strategy runs the same engine with AWS VPC CNI's warm-IP semantics:
// - WARM_IP_TARGET: free IPs kept ahead of pods; more are bound at once when free < target, and
//   free IPs above it are returned (ipamd checks about every 30 s, 30 s IP cooldown);
// - MINIMUM_IP_TARGET: the floor of total IPs on the node, whatever the pod count.
// So: minPrebind = maxPrebind = WARM_IP_TARGET, floor = MINIMUM_IP_TARGET, release interval and
// cooldown 30 s. ENI placement stays vpccni's (least-ENI), which AWS does not do: the
// comparison isolates the warm-target policy, not placement.
import type { PolicySpec } from "../schema/policy.ts";
import { type PoolSettings, settingsFromPolicy } from "../runtime/pool/index.ts";

export type StrategyName = "vpccni" | "aws";

export interface AwsTargets {
  warmIpTarget: number;
  minimumIpTarget: number;
}

export const AWS_RECONCILE_MS = 30_000;
export const AWS_COOLDOWN_MS = 30_000;

export function vpccniSettings(spec: PolicySpec): PoolSettings {
  return settingsFromPolicy(spec);
}

export function awsSettings(spec: PolicySpec, targets: AwsTargets): PoolSettings {
  return {
    ...settingsFromPolicy(spec),
    minPrebind: targets.warmIpTarget,
    maxPrebind: targets.warmIpTarget,
    floor: targets.minimumIpTarget,
    releaseIntervalMs: AWS_RECONCILE_MS,
    cooldownMs: AWS_COOLDOWN_MS,
  };
}
