// Mixed mode: which pods are vpccni's. The CNI plugin asks before each ADD; in mixed mode the
// answer is the pod's networks annotation, as the container runtime handed it to the plugin
// (runtimeConfig "io.kubernetes.cri.pod-annotations", which containerd's CRI fills from 1.5.0
// on). The agent reads no pod from the API server: its ServiceAccount has no right to.
import { POD_ANNOTATIONS_CAPABILITY } from "../../schema/cni.ts";
import type { PolicySpec } from "../../schema/index.ts";
import { NETWORKS_ANNOTATION, NETWORKS_VPC_CNI, optsIntoVpcCni } from "../../schema/names.ts";
import type { RequestOf, ResponseOf } from "../cni/protocol.ts";

export type Owner = ResponseOf<"owner">;

/** What the owner question carries about the pod. */
export type OwnerQuestion = Pick<RequestOf<"owner">, "podNamespace" | "podName" | "podAnnotations">;

export interface OwnerDecision extends Owner {
  /**
   * The runtime passed no pod annotations at all (it lacks the capability, e.g. containerd
   * before 1.5.0): worth a Warning, since no pod on this node can opt in.
   */
  runtimeWithoutAnnotations?: true;
}

/**
 * Who wires the pod. Without annotations from the runtime the pod goes to the delegate: the
 * node's previous CNI is what every pod had before vpccni came, while refusing would stop
 * every new pod on the node; the Warning says why no pod gets a VPC IP.
 */
export function decideOwner(mode: PolicySpec["mode"], q: OwnerQuestion): OwnerDecision {
  if (mode === "default") return { owner: "vpccni", reason: "policy mode is default" };
  const pod = `${q.podNamespace ?? "?"}/${q.podName ?? "?"}`;
  if (q.podAnnotations === undefined)
    return {
      owner: "delegate",
      reason: `the container runtime passed no annotations of pod ${pod} (runtimeConfig "${POD_ANNOTATIONS_CAPABILITY}", which containerd passes from 1.5.0 on), so no pod can opt in to VPC-CNI on this node`,
      runtimeWithoutAnnotations: true,
    };
  return optsIntoVpcCni(q.podAnnotations)
    ? { owner: "vpccni", reason: `pod ${pod} has ${NETWORKS_ANNOTATION}: ${NETWORKS_VPC_CNI}` }
    : { owner: "delegate", reason: `pod ${pod} does not opt in (${NETWORKS_ANNOTATION})` };
}

/** The owner verb's answer for the agent's current mode; `warn` hears about a runtime without annotations. */
export function ownerAnswers(
  mode: () => PolicySpec["mode"],
  warn: (message: string) => void,
): (q: OwnerQuestion) => Owner {
  return (q) => {
    const { runtimeWithoutAnnotations, ...answer } = decideOwner(mode(), q);
    if (runtimeWithoutAnnotations) warn(answer.reason);
    return answer;
  };
}
