// Fixed IP mode's cluster objects in the output: the four CustomResourceDefinitions of
// schema/fixed-ip-crds.ts (VpcIPClaim, VpcIP, VpcENI, NodeENIConfig), written only when a
// policy has ipMode: fixed. refusals() allows at most one such policy per cluster: the
// controller runs one fixed-IP pool.
import type { SourcedPolicy, VpcCniPolicy } from "../schema/index.ts";
import { fixedIpCrds } from "../schema/fixed-ip-crds.ts";
import { commonLabels } from "./labels.ts";
import type { Manifest, Resource } from "./resource.ts";

/** The cluster's fixed-IP policy, if any. */
export function fixedPolicy(policies: readonly SourcedPolicy[]): VpcCniPolicy | undefined {
  return policies.find((p) => p.policy.spec.ipMode === "fixed")?.policy;
}

/**
 * GitOps tools must never prune these CRDs: deleting a CRD deletes every claim, and with them
 * the addresses kept for StatefulSet pods. So a policy removed from Git (the last step of
 * switching off, docs/operations.md) leaves them; they are deleted by hand once empty.
 */
export const KEEP_ON_PRUNE = {
  "argocd.argoproj.io/sync-options": "Prune=false",
  "kustomize.toolkit.fluxcd.io/prune": "disabled",
} as const;

/** The CRDs, in FIXED_IP_KINDS order, with vpccni's labels; none without a fixed policy. */
export function fixedIpObjects(policies: readonly SourcedPolicy[]): Resource[] {
  if (fixedPolicy(policies) === undefined) return [];
  return fixedIpCrds().map((crd) => {
    const manifest = crd as Manifest;
    return {
      manifest: {
        ...manifest,
        metadata: { ...manifest.metadata, labels: commonLabels("crd"), annotations: { ...KEEP_ON_PRUNE } },
      },
    };
  });
}
