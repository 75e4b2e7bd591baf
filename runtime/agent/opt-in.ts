// Mixed mode: which pods are vpccni's. The CNI plugin asks before each ADD; in mixed mode the
// answer is the pod's networks annotation, read from the API server by namespace and name
// (CNI_ARGS K8S_POD_NAMESPACE/K8S_POD_NAME), with a short cache for the runtime's retries.
import { NETWORKS_ANNOTATION, NETWORKS_VPC_CNI, optsIntoVpcCni } from "../../schema/names.ts";
import type { PolicySpec } from "../../schema/index.ts";
import { CniCode, CniError, type ResponseOf } from "../cni/protocol.ts";
import type { KubePort } from "../kube/client.ts";

/** A runtime retrying a failed ADD asks again within seconds; the annotation rarely changes. */
const CACHE_MS = 5_000;
const CACHE_MAX = 1_000;

export type Owner = ResponseOf<"owner">;

export interface PodOptInDeps {
  /** null: no Kubernetes (--no-kube); mixed mode then cannot tell, and says so. */
  kube: KubePort | null;
  mode: () => PolicySpec["mode"];
  now?: () => number;
}

export class PodOptIn {
  private readonly cache = new Map<string, { at: number; owner: Owner }>();

  constructor(private readonly deps: PodOptInDeps) {}

  async decide(namespace: string | undefined, name: string | undefined): Promise<Owner> {
    if (this.deps.mode() === "default") return { owner: "vpccni", reason: "policy mode is default" };
    if (!namespace || !name)
      return { owner: "delegate", reason: "CNI_ARGS names no pod (K8S_POD_NAMESPACE/K8S_POD_NAME)" };
    const kube = this.deps.kube;
    if (!kube)
      throw new CniError(
        CniCode.AgentFailure,
        `mixed mode reads pod ${namespace}/${name}'s ${NETWORKS_ANNOTATION} annotation, but the agent runs without Kubernetes (--no-kube)`,
      );
    const now = (this.deps.now ?? Date.now)();
    const pod = `${namespace}/${name}`;
    const hit = this.cache.get(pod);
    if (hit && now - hit.at < CACHE_MS) return hit.owner;
    let annotations: Record<string, string> | null;
    try {
      annotations = await kube.podAnnotations(namespace, name);
    } catch (error) {
      throw new CniError(
        CniCode.TryAgainLater,
        `cannot read pod ${pod} from the API server to see whether it opted in to VPC-CNI: ${(error as Error).message}`,
      );
    }
    // Gone already: nothing to wire for it, and the delegate's DEL is the one that follows.
    if (annotations === null) return { owner: "delegate", reason: `pod ${pod} is not in the API server` };
    const owner: Owner = optsIntoVpcCni(annotations)
      ? { owner: "vpccni", reason: `pod ${pod} has ${NETWORKS_ANNOTATION}: ${NETWORKS_VPC_CNI}` }
      : { owner: "delegate", reason: `pod ${pod} does not opt in (${NETWORKS_ANNOTATION})` };
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(pod, { at: now, owner });
    return owner;
  }
}
