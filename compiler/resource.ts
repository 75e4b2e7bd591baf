// A generated object and where it goes: its apply order (file prefix), its Argo CD sync wave,
// comments to print above parts of it, and the policy file it came from. Objects are typed with
// @kubernetes/client-node's V1 models, imported as types only: erased, so the compiler loads
// none of client-node at run time.
import type { KubernetesObject, V1ObjectMeta } from "@kubernetes/client-node";

/**
 * An object as the compiler writes it: a client-node model (Manifest<V1DaemonSet>, ...) with
 * apiVersion, kind and metadata.name required. The models leave them optional because the API
 * server's replies may omit them; ours always have them, and the file is named after them.
 * Without T, any kind (what Resource holds). Omit, not an intersection: the models are classes,
 * and a class type has no implicit index signature, so V1DaemonSet & {...} would not fit that.
 */
export type Manifest<T extends KubernetesObject = { [field: string]: unknown }> = Omit<
  T,
  "apiVersion" | "kind" | "metadata"
> & {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta & { name: string };
};

export interface Comment {
  /** Where in the object the comment goes, e.g. ["rules", 0]. */
  path: (string | number)[];
  text: string;
}

export interface Resource {
  manifest: Manifest;
  comments?: Comment[];
  /** The policy file an object was generated from (file header), if any. */
  source?: string;
}

/**
 * Apply order and sync waves: fixed IP mode's CustomResourceDefinitions and the Namespace
 * first (wave 0; the CRDs share the Namespace's prefix and sort before it), then RBAC and configuration
 * (wave 1; with cert-manager, the webhook's Issuers and Certificates too, so the Secret is
 * issued before the controller starts), then workloads (wave 2), then the optional Prometheus
 * Operator objects (wave 3).
 * The prefix orders files and kustomization.yaml alike.
 */
export const STAGES: Record<string, { prefix: number; wave: number }> = {
  // Only with ipMode: fixed (fixed-ip-objects.ts). Flux applies CRDs first anyway; Argo CD by wave.
  CustomResourceDefinition: { prefix: 10, wave: 0 },
  Namespace: { prefix: 10, wave: 0 },
  ServiceAccount: { prefix: 20, wave: 1 },
  ClusterRole: { prefix: 21, wave: 1 },
  ClusterRoleBinding: { prefix: 22, wave: 1 },
  Role: { prefix: 23, wave: 1 },
  RoleBinding: { prefix: 24, wave: 1 },
  ValidatingAdmissionPolicy: { prefix: 25, wave: 1 },
  ValidatingAdmissionPolicyBinding: { prefix: 26, wave: 1 },
  ConfigMap: { prefix: 30, wave: 1 },
  // cert-manager's kinds (cert-manager.ts), only with spec.webhook.tls: cert-manager.
  Issuer: { prefix: 31, wave: 1 },
  Certificate: { prefix: 32, wave: 1 },
  DaemonSet: { prefix: 40, wave: 2 },
  Deployment: { prefix: 41, wave: 2 },
  PodDisruptionBudget: { prefix: 42, wave: 2 },
  Service: { prefix: 50, wave: 2 },
  // After the controller that serves it (Argo CD waits for wave 2 to be healthy).
  MutatingWebhookConfiguration: { prefix: 55, wave: 3 },
  // Not ours: the Prometheus Operator's kinds, after everything else (monitoring.ts).
  ServiceMonitor: { prefix: 60, wave: 3 },
  PrometheusRule: { prefix: 61, wave: 3 },
};

export function stageOf(kind: string): { prefix: number; wave: number } {
  const stage = STAGES[kind];
  if (stage === undefined)
    throw new Error(`no apply stage for kind ${JSON.stringify(kind)}; allowed: ${Object.keys(STAGES).join(", ")}`);
  return stage;
}

export const SYNC_WAVE = "argocd.argoproj.io/sync-wave";

export function fileName(manifest: Manifest): string {
  const { prefix } = stageOf(manifest.kind);
  return `${prefix}-${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`;
}
