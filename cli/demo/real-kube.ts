// What the real-node demo does through Kubernetes: kubectl as a user types it, the demo's
// Deployment, and its pods as the API server and each node's containerd see them.
import type { PodStatus } from "../../sandbox/containerd.ts";
import { runOk } from "../../sandbox/exec.ts";
import type { KubeletNode } from "../../sandbox/kubelet.ts";
import { paths } from "../../sandbox/paths.ts";
import { AGENT_NAMESPACE, type RealCluster } from "../../sandbox/real-cluster.ts";
import { PAUSE_IMAGE } from "../../sandbox/containerd.ts";
import { ENI_IP_RESOURCE } from "../../schema/names.ts";

export const APP = "web";
export const APP_NAMESPACE = "default";

export interface ApiPod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

/** `kubectl ARGS` with the cluster's admin kubeconfig; its output, each line indented for the demo. */
export async function kubectl(c: RealCluster, args: string[], input?: string): Promise<string> {
  const out = await runOk([paths.kubectl, "--kubeconfig", c.kube.admin.path, ...args], { input });
  return [`$ kubectl ${args.join(" ")}`, ...out.trimEnd().split("\n")].map((l) => `    ${l}`).join("\n");
}

/**
 * The demo's Deployment: pause containers that ask for one VPC IP each (what the eni-ip
 * webhook would inject), spread evenly over the nodes so that every node wires some.
 */
export function deployment(replicas: number): Record<string, unknown> {
  const labels = { app: APP };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: APP, namespace: APP_NAMESPACE },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: labels },
            },
          ],
          containers: [
            {
              name: "pause",
              image: PAUSE_IMAGE,
              imagePullPolicy: "Never",
              resources: { requests: { [ENI_IP_RESOURCE]: "1" }, limits: { [ENI_IP_RESOURCE]: "1" } },
            },
          ],
        },
      },
    },
  };
}

/** The Deployment's pods, terminating ones included. */
export async function appPods(c: RealCluster): Promise<ApiPod[]> {
  return (await c.get(`/api/v1/namespaces/${APP_NAMESPACE}/pods?labelSelector=app%3D${APP}`)).items as ApiPod[];
}

export function isReady(p: ApiPod): boolean {
  return (
    p.metadata.deletionTimestamp === undefined &&
    p.status.phase === "Running" &&
    Boolean(p.status.podIP) &&
    (p.status.conditions ?? []).some((x) => x.type === "Ready" && x.status === "True")
  );
}

/** The pod's sandbox in its node's containerd: its network namespace, for the TCP check. */
export async function sandboxOf(c: RealCluster, p: ApiPod): Promise<{ node: KubeletNode; sandbox: PodStatus }> {
  const node = c.nodes.find((n) => n.name === p.spec.nodeName);
  if (!node) throw new Error(`pod ${p.metadata.name} is on ${p.spec.nodeName}, not a node of the demo`);
  for (const id of await node.runtime.podIds()) {
    const sandbox = await node.runtime.inspectPod(id);
    if (sandbox.uid === p.metadata.uid && sandbox.state === "SANDBOX_READY") return { node, sandbox };
  }
  throw new Error(`pod ${p.metadata.name} has no ready sandbox in ${node.name}'s containerd`);
}

interface ContainerStatus {
  name: string;
  restartCount: number;
  lastState?: { terminated?: { exitCode: number; message?: string } };
}

interface AgentPod {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { conditions?: { type: string; status: string }[]; containerStatuses?: ContainerStatus[] };
}

/**
 * On how many nodes an agent pod of the DaemonSet is ready, and why an agent keeps exiting once
 * kubelet has restarted it twice: the error of its last JSON log line (e.g. a policy field an
 * older image does not know), or its exit code.
 */
export async function agentsOnNodes(c: RealCluster): Promise<{ ready: number; crashLoop: string | null }> {
  const pods = (await c.get(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`)).items as AgentPod[];
  const live = pods.filter((p) => p.metadata.deletionTimestamp === undefined);
  const ready = live.filter((p) => (p.status.conditions ?? []).some((x) => x.type === "Ready" && x.status === "True"));
  let crashLoop: string | null = null;
  for (const p of live) {
    const agent = p.status.containerStatuses?.find((s) => s.name === "agent");
    const last = agent?.lastState?.terminated;
    if (!agent || !last || agent.restartCount < 2) continue;
    let why = `exit code ${last.exitCode}`;
    try {
      const line = JSON.parse((last.message ?? "").trim().split("\n").at(-1) ?? "") as { error?: string };
      if (line.error) why = line.error.split("\n").slice(0, 2).join(" ");
    } catch {
      // not a JSON log line: the exit code says enough
    }
    crashLoop = `the agent on ${p.spec.nodeName} keeps exiting (${agent.restartCount} restarts): ${why}`;
  }
  return { ready: new Set(ready.map((p) => p.spec.nodeName)).size, crashLoop };
}
