// The eni-ip admission webhook: pods that get a VPC IP from vpccni ask for one
// `tke.cloud.tencent.com/eni-ip` on their first container, so the scheduler places them only on
// nodes with a bound IP to give (the Node's allocatable, published by the agents). As TKE's
// add-pod-eni-ip-limit-webhook decides: a pod uses vpccni when its
// `tke.cloud.tencent.com/networks` annotation names `tke-route-eni`, or when vpccni is the
// cluster's default CNI and the annotation is absent; hostNetwork pods never do. Pure: an
// AdmissionReview in, an AdmissionReview out.
import { ENI_IP_RESOURCE, ENI_SUBNET_LABEL, NETWORKS_ANNOTATION, NETWORKS_VPC_CNI } from "../../schema/names.ts";

export const WEBHOOK_PATH = "/mutate-pods";

export interface WebhookSettings {
  /** vpccni is the cluster's default CNI ("default") or only for pods that opt in ("mixed"). */
  mode: "default" | "mixed";
}

interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: unknown[];
}

interface PodLike {
  metadata?: { name?: string; generateName?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    hostNetwork?: boolean;
    affinity?: {
      nodeAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
        [k: string]: unknown;
      };
      [k: string]: unknown;
    };
    containers?: {
      name?: string;
      resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    }[];
  };
}

export type Decision = { inject: true } | { inject: false; why: string };

/** Whether the pod gets its IP from vpccni, and so must request eni-ip. */
export function usesVpcCni(pod: PodLike, settings: WebhookSettings): Decision {
  if (pod.spec?.hostNetwork) return { inject: false, why: "hostNetwork pod" };
  const networks = pod.metadata?.annotations?.[NETWORKS_ANNOTATION];
  if (networks !== undefined) {
    const names = networks.split(",").map((n) => n.trim());
    return names.includes(NETWORKS_VPC_CNI)
      ? { inject: true }
      : { inject: false, why: `${NETWORKS_ANNOTATION} does not name ${NETWORKS_VPC_CNI}` };
  }
  return settings.mode === "default"
    ? { inject: true }
    : { inject: false, why: `mixed mode and no ${NETWORKS_ANNOTATION} annotation` };
}

/** RFC 6901: "/" and "~" in a key. */
const pointer = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * The JSON patch that makes the first container request and limit 1 eni-ip, or [] when it
 * already does. An extended resource must have requests equal to limits: a value the user set
 * on either side is copied to the other.
 */
export function eniIpPatch(pod: PodLike): object[] {
  const c = pod.spec?.containers?.[0];
  if (!c) return [];
  const requests = c.resources?.requests?.[ENI_IP_RESOURCE];
  const limits = c.resources?.limits?.[ENI_IP_RESOURCE];
  const value = limits ?? requests ?? "1";
  const ops: object[] = [];
  if (c.resources === undefined) ops.push({ op: "add", path: "/spec/containers/0/resources", value: {} });
  for (const side of ["requests", "limits"] as const) {
    if (c.resources?.[side]?.[ENI_IP_RESOURCE] !== undefined) continue;
    if (c.resources?.[side] === undefined)
      ops.push({ op: "add", path: `/spec/containers/0/resources/${side}`, value: { [ENI_IP_RESOURCE]: value } });
    else ops.push({ op: "add", path: `/spec/containers/0/resources/${side}/${pointer(ENI_IP_RESOURCE)}`, value });
  }
  return ops;
}

/**
 * Fixed IP placement: a pod whose claim holds an address may only run on nodes whose ENI is in
 * the address's subnet (a fixed IP never crosses subnets). The controller labels each node with
 * its ENI's subnet; this adds `label In [subnet]` to every required node selector term (terms
 * are ORed, expressions ANDed: the pod's own constraints stay, each narrowed), or one term when
 * the pod has none. [] when the pod already says so.
 */
export function placementPatch(pod: PodLike, subnet: string): object[] {
  const want = { key: ENI_SUBNET_LABEL, operator: "In", values: [subnet] };
  const affinity = pod.spec?.affinity ?? {};
  const nodeAffinity = affinity.nodeAffinity ?? {};
  const terms = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const has = (t: NodeSelectorTerm) =>
    (t.matchExpressions ?? []).some((e) => JSON.stringify(e) === JSON.stringify(want));
  if (terms.length > 0 && terms.every(has)) return [];
  const narrowed =
    terms.length === 0
      ? [{ matchExpressions: [want] }]
      : terms.map((t) => (has(t) ? t : { ...t, matchExpressions: [...(t.matchExpressions ?? []), want] }));
  const value = {
    ...affinity,
    nodeAffinity: {
      ...nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: {
        ...nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution,
        nodeSelectorTerms: narrowed,
      },
    },
  };
  // "add" replaces a member that exists: one operation whatever the pod had
  return [{ op: "add", path: "/spec/affinity", value }];
}

interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: { uid?: string; kind?: { kind?: string }; operation?: string; namespace?: string; object?: PodLike };
}

/** The pod an AdmissionReview creates, when it has a name already (a StatefulSet's pods do). */
export function createdPod(body: unknown): { namespace: string; name: string } | null {
  const r = body as AdmissionReview;
  const name = r?.request?.object?.metadata?.name;
  const namespace = r?.request?.namespace ?? r?.request?.object?.metadata?.namespace;
  if (r?.request?.kind?.kind !== "Pod" || r.request.operation !== "CREATE" || !name || !namespace) return null;
  return { namespace, name };
}

/**
 * The answer to one AdmissionReview (admission.k8s.io/v1). Never refuses a pod. `subnet`: in
 * fixed IP mode, the subnet of the address the pod's claim holds (the placement rule).
 */
export function review(
  body: unknown,
  settings: WebhookSettings,
  subnet?: string | null,
): { status: number; body: object } {
  const r = body as AdmissionReview;
  if (
    typeof r !== "object" ||
    r === null ||
    r.kind !== "AdmissionReview" ||
    typeof r.request?.uid !== "string" ||
    r.request.object === undefined
  )
    return {
      status: 400,
      body: { error: "expected an admission.k8s.io/v1 AdmissionReview with request.uid and request.object" },
    };
  const response: Record<string, unknown> = { uid: r.request.uid, allowed: true };
  const pod = r.request.object;
  if (r.request.kind?.kind === "Pod" && r.request.operation === "CREATE" && usesVpcCni(pod, settings).inject) {
    const patch = [...eniIpPatch(pod), ...(subnet ? placementPatch(pod, subnet) : [])];
    if (patch.length > 0) {
      response.patchType = "JSONPatch";
      response.patch = Buffer.from(JSON.stringify(patch)).toString("base64");
    }
  }
  return { status: 200, body: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response } };
}
