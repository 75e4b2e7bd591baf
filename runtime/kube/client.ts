// What the node agent asks of Kubernetes, and nothing more: the extended resource and the
// VpccniDrained condition on its Node, Events, and in fixed IP mode one pod's VpcIPClaim and
// its Node's NodeENIConfig. It reads no pods: pods that are gone are found from their netns
// paths (agent/pod-gc.ts), and mixed mode's annotation comes from the container runtime
// (agent/opt-in.ts). The exact requests are listed in compiler/'s agent RBAC, which a test
// proves minimal on a real server.
import * as k8s from "@kubernetes/client-node";

/** The TKE name users already know; a pod requests 1 of it. */
import { ENI_IP_RESOURCE } from "../../schema/names.ts";
import {
  CRD_GROUP,
  CRD_VERSION,
  FIXED_IP_KINDS,
  type NodeENIConfig,
  type VpcIPClaim,
} from "../../schema/fixed-ip-crds.ts";

export { ENI_IP_RESOURCE };

export type EventType = "Normal" | "Warning";

/** A Node condition the agent sets (only DRAINED_CONDITION: the admission policy allows no other). */
export interface NodeCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface KubePort {
  setEniIpResource(node: string, figures: { capacity: number; allocatable: number }): Promise<void>;
  nodeEvent(node: string, type: EventType, reason: string, message: string): Promise<void>;
  /** Sets one condition of the Node's status; the others stay as they are. */
  setNodeCondition(node: string, condition: NodeCondition): Promise<void>;
  /** Fixed IP mode: the pod's VpcIPClaim (same namespace and name); null when there is none. */
  getClaim(namespace: string, name: string): Promise<VpcIPClaim | null>;
  /** Fixed IP mode: the Node's NodeENIConfig (same name); null when there is none. */
  getNodeEniConfig(node: string): Promise<NodeENIConfig | null>;
}

const plural = (kind: string): string => {
  const def = FIXED_IP_KINDS.find((k) => k.kind === kind);
  if (!def) throw new Error(`no fixed IP kind ${kind}; allowed: ${FIXED_IP_KINDS.map((k) => k.kind).join(", ")}`);
  return def.plural;
};

const notFound = (error: unknown): boolean => (error as { code?: number }).code === 404;

export class KubeClient implements KubePort {
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;

  constructor(config: k8s.KubeConfig) {
    this.core = config.makeApiClient(k8s.CoreV1Api);
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
  }

  /** A kubeconfig file, or the pod's ServiceAccount when none is given. */
  static load(kubeconfig?: string): KubeClient {
    const config = new k8s.KubeConfig();
    if (kubeconfig) config.loadFromFile(kubeconfig);
    else config.loadFromCluster();
    return new KubeClient(config);
  }

  /**
   * A merge patch of the Node's status: it works whether or not capacity exists yet, and
   * leaves every other resource alone.
   */
  async setEniIpResource(node: string, figures: { capacity: number; allocatable: number }): Promise<void> {
    const body = {
      status: {
        capacity: { [ENI_IP_RESOURCE]: String(figures.capacity) },
        allocatable: { [ENI_IP_RESOURCE]: String(figures.allocatable) },
      },
    };
    await this.core.patchNodeStatus(
      { name: node, body },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
  }

  /**
   * A strategic merge patch of the Node's status: conditions merge by `type`, so kubelet's own
   * (Ready, MemoryPressure...) stay as they are.
   */
  async setNodeCondition(node: string, condition: NodeCondition): Promise<void> {
    const now = new Date().toISOString();
    const body = { status: { conditions: [{ ...condition, lastHeartbeatTime: now, lastTransitionTime: now }] } };
    await this.core.patchNodeStatus(
      { name: node, body },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
    );
  }

  async getClaim(namespace: string, name: string): Promise<VpcIPClaim | null> {
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: CRD_GROUP,
        version: CRD_VERSION,
        namespace,
        plural: plural("VpcIPClaim"),
        name,
      })) as VpcIPClaim;
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  }

  async getNodeEniConfig(node: string): Promise<NodeENIConfig | null> {
    try {
      return (await this.custom.getClusterCustomObject({
        group: CRD_GROUP,
        version: CRD_VERSION,
        plural: plural("NodeENIConfig"),
        name: node,
      })) as NodeENIConfig;
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  }

  /** Node events live in "default", as the kubelet's do, so `kubectl describe node` shows them. */
  async nodeEvent(node: string, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: "default",
      body: {
        metadata: { generateName: `${node}.vpccni.` },
        involvedObject: { apiVersion: "v1", kind: "Node", name: node, uid: node },
        type,
        reason,
        message,
        source: { component: "vpccni-agent", host: node },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
