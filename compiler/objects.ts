// Policies in, the list of objects for their cluster out (or the diagnostics that refuse them).
import { type Diagnostic, hasErrors, type SourcedPolicy } from "../schema/index.ts";
import {
  clusterRole,
  clusterRoleBinding,
  cniConfig,
  metricsService,
  namespace,
  namespacedRoles,
} from "./cluster-objects.ts";
import { nodeStatusGuard } from "./admission.ts";
import { clusterWebhook } from "./cert-manager.ts";
import { controllerObjects } from "./controller.ts";
import { daemonSet } from "./daemonset.ts";
import { fixedIpObjects, fixedPolicy } from "./fixed-ip-objects.ts";
import { monitoringObjects } from "./monitoring.ts";
import { policyConfigMap, policyDigest, policyYaml, serviceAccount } from "./policy-objects.ts";
import { refusals } from "./refuse.ts";
import type { Resource } from "./resource.ts";
import type { CniVersion } from "../schema/cni.ts";
import { DEFAULT_IMAGE, DEFAULT_NAMESPACE } from "./version.ts";

export interface BuildOptions {
  namespace?: string;
  image?: string;
  /**
   * The admission policy that holds agents to their own Node's eni-ip (default true). Off only
   * for clusters older than Kubernetes 1.30, which lack ValidatingAdmissionPolicy v1 or the
   * node name in pod-bound tokens; the agents can then patch any Node's status.
   */
  nodeStatusPolicy?: boolean;
  /**
   * The node's CNI folders, for runtimes configured with others than /opt/cni/bin and
   * /etc/cni/net.d (containerd's `bin_dir` / `conf_dir`). Absolute paths.
   */
  cniBinDir?: string;
  cniConfDir?: string;
  /** The conflist's cniVersion (default 1.0.0: what containerd 1.6/1.7 and portmap 1.1 speak). */
  cniVersion?: CniVersion;
  /** How a policy file is named in generated headers (e.g. relative to the output folder). */
  sourceName?: (file: string) => string;
}

export interface BuildResult {
  resources: Resource[];
  diagnostics: Diagnostic[];
}

export function build(
  policies: readonly SourcedPolicy[],
  sources: ReadonlyMap<string, string>,
  options: BuildOptions = {},
): BuildResult {
  const ns = options.namespace ?? DEFAULT_NAMESPACE;
  const diagnostics = refusals(policies, sources, ns);
  if (hasErrors(diagnostics)) return { resources: [], diagnostics };
  // No policy: vpccni is switched off. An empty output lets Argo CD or Flux prune every object.
  if (policies.length === 0) return { resources: [], diagnostics };
  const image = options.image ?? DEFAULT_IMAGE;
  const sourceName = options.sourceName ?? ((f: string) => f);
  const sorted = [...policies].sort((a, b) => (a.policy.metadata.name < b.policy.metadata.name ? -1 : 1));
  const policyNames = sorted.map((p) => p.policy.metadata.name);
  const resources: Resource[] = [
    ...fixedIpObjects(sorted),
    ...namespace(ns),
    clusterRole(),
    clusterRoleBinding(ns, policyNames),
    ...namespacedRoles(ns, policyNames),
    ...(options.nodeStatusPolicy === false ? [] : nodeStatusGuard(ns)),
    // refusals() holds every policy to the first one's mode
    cniConfig(ns, {
      cniVersion: options.cniVersion,
      mode: sorted[0]!.policy.spec.mode,
      cniConfDir: options.cniConfDir,
    }),
    metricsService(ns),
    // the fixed policy, if any: the controller runs its pool (refusals() allow one)
    ...controllerObjects(
      ns,
      image,
      clusterMode(sorted),
      fixedPolicy(sorted) ?? sorted[0]!.policy,
      clusterWebhook(sorted),
    ),
    ...monitoringObjects(sorted, ns),
  ];
  for (const { policy, file } of sorted) {
    const source = sourceName(file);
    const yaml = policyYaml(policy);
    resources.push(
      serviceAccount(policy, ns, source),
      policyConfigMap(policy, ns, source, yaml),
      daemonSet({
        policy,
        namespace: ns,
        image,
        source,
        policyDigest: policyDigest(yaml),
        cniBinDir: options.cniBinDir,
        cniConfDir: options.cniConfDir,
      }),
    );
  }
  return { resources, diagnostics };
}

/** vpccni is the cluster's default CNI, or only for pods that opt in (spec.mode: mixed). */
function clusterMode(policies: readonly SourcedPolicy[]): "default" | "mixed" {
  return policies.some((p) => (p.policy.spec as { mode?: string }).mode === "mixed") ? "mixed" : "default";
}
