// The agent DaemonSet of one policy. Every privilege below is one the agent cannot work
// without; see docs/gitops.md ("What the agent may do") for the list and the reasons.
import type {
  V1Container,
  V1DaemonSet,
  V1DaemonSetSpec,
  V1Probe,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { VpcCniPolicy } from "../schema/index.ts";
import {
  AGENT_COMMAND,
  AGENT_RUNTIME_ENV,
  ENV,
  HEALTH_PATHS,
  installCniScript,
  PATHS,
  PORT,
  SERVICE_ACCOUNT_CA,
  agentArgs,
} from "./agent-contract.ts";
import { agentSelector, commonLabels, names, withUserLabels } from "./labels.ts";
import { credentialsSecretName } from "./policy-objects.ts";
import type { Manifest, Resource } from "./resource.ts";

export interface DaemonSetInput {
  policy: VpcCniPolicy;
  namespace: string;
  image: string;
  source: string;
  policyDigest: string;
  /** The node's CNI folders, where the kubelet's runtime looks (default /opt/cni/bin, /etc/cni/net.d). */
  cniBinDir?: string;
  cniConfDir?: string;
}

/**
 * Root in the host network namespace with two capabilities. NET_ADMIN: ENI links, route
 * tables, rules, veths, neighbours and net sysctls. SYS_ADMIN: the agent wires each pod, so it
 * enters the pod's network namespace (setns, through `nsenter --net`), which the kernel
 * allows only with CAP_SYS_ADMIN. No NET_RAW: netlink needs none, and the agent sends no ARP
 * or ICMP and runs no iptables. Not privileged: no devices, the rest of /proc stays masked.
 */
const agentSecurity: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  capabilities: { add: ["NET_ADMIN", "SYS_ADMIN"], drop: ["ALL"] },
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsUser: 0,
  seccompProfile: { type: "RuntimeDefault" },
};

/** Root only to write root-owned host directories; it owns the files it writes, so no caps. */
const installSecurity: V1SecurityContext = { ...agentSecurity, capabilities: { drop: ["ALL"] } };

function probe(path: string, periodSeconds: number, failureThreshold: number): V1Probe {
  // hostNetwork: the pod IP the kubelet probes is the node's, where the agent listens.
  return { httpGet: { path, port: PORT, scheme: "HTTP" }, periodSeconds, timeoutSeconds: 5, failureThreshold };
}

const hostDir = (
  name: string,
  path: string,
  type: "Directory" | "DirectoryOrCreate" = "DirectoryOrCreate",
): V1Volume => ({ name, hostPath: { path, type } });

export function daemonSet(input: DaemonSetInput): Resource {
  const { policy, namespace, image } = input;
  const name = policy.metadata.name;
  const secret = credentialsSecretName(policy);
  const selector = agentSelector(name);
  const podLabels = withUserLabels(policy.metadata.labels, { ...commonLabels("agent", name), ...selector });

  const volumes: V1Volume[] = [
    hostDir("cni-bin", input.cniBinDir ?? PATHS.hostCniBinDir),
    hostDir("cni-conf", input.cniConfDir ?? PATHS.hostCniConfDir),
    { name: "cni-config", configMap: { name: names.cniConfig, defaultMode: 0o444 } },
    // The kubelet reads the Secret (the node authorizer lets it, for pods on its node): the
    // agent's ServiceAccount needs no access to Secrets. Rotation shows up in the files.
    // Optional: while the Secret is missing (not delivered yet, a SOPS or Sealed Secrets
    // controller at work) the agent starts, stays not ready and says why in a CredentialsMissing
    // Event, instead of a pod stuck in ContainerCreating; the keys show up in the mount later.
    ...(secret === undefined
      ? []
      : [{ name: "credentials", secret: { secretName: secret, defaultMode: 0o400, optional: true } }]),
    hostDir("netns", PATHS.netnsDir),
    { name: "policy", configMap: { name: names.policyConfig(name), defaultMode: 0o444 } },
    hostDir("run", PATHS.socketDir),
    hostDir("state", PATHS.stateDir),
    // Always: forwarding must be on even when the policy leaves rp_filter alone.
    hostDir("sysctl-net", "/proc/sys/net", "Directory"),
    // eni-ip as a device plugin: kubelet keeps allocatable = the bound IPs this way
    hostDir("device-plugins", PATHS.devicePluginDir),
    // The root filesystem is read-only; Bun and SQLite may need scratch space.
    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
  ];
  const agentMounts: V1VolumeMount[] = [
    // Switching off (spec.enabled: false) removes vpccni's conflist once the node is drained.
    { name: "cni-conf", mountPath: PATHS.cniConfMount },
    ...(secret === undefined ? [] : [{ name: "credentials", mountPath: PATHS.credentialsDir, readOnly: true }]),
    // Pod namespaces are bind mounts the runtime makes later: they must propagate in.
    { name: "netns", mountPath: PATHS.netnsDir, mountPropagation: "HostToContainer", readOnly: true },
    { name: "policy", mountPath: PATHS.policyDir, readOnly: true },
    { name: "run", mountPath: PATHS.socketDir },
    { name: "state", mountPath: PATHS.stateDir },
    { name: "sysctl-net", mountPath: PATHS.sysctlNetMount },
    { name: "device-plugins", mountPath: PATHS.devicePluginDir },
    { name: "tmp", mountPath: "/tmp" },
  ];

  const install: V1Container = {
    name: "install-cni",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["sh", "-c"],
    args: [installCniScript(policy.spec.mode, { enabled: policy.spec.enabled })],
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
    securityContext: installSecurity,
    volumeMounts: [
      { name: "cni-bin", mountPath: PATHS.cniBinMount },
      { name: "cni-conf", mountPath: PATHS.cniConfMount },
      { name: "cni-config", mountPath: PATHS.cniConfigDir, readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
    terminationMessagePolicy: "FallbackToLogsOnError",
  };
  const agent: V1Container = {
    name: "agent",
    image,
    imagePullPolicy: "IfNotPresent",
    command: [...AGENT_COMMAND],
    args: agentArgs({ credentials: secret !== undefined }),
    env: [
      { name: ENV.nodeName, valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: ENV.podName, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: ENV.podNamespace, valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: ENV.sysctlNetDir, value: PATHS.sysctlNetMount },
      { name: ENV.extraCaCerts, value: SERVICE_ACCOUNT_CA },
      ...AGENT_RUNTIME_ENV,
    ],
    // Declared so that the scheduler keeps other hostNetwork pods off this node port.
    ports: [{ name: "http", containerPort: PORT, hostPort: PORT, protocol: "TCP" }],
    // The listener opens once start-up reconciliation (metadata, cloud, kernel) is done: the
    // startup probe gives that 5 minutes before liveness may restart the agent.
    startupProbe: probe(HEALTH_PATHS.liveness, 5, 60),
    livenessProbe: probe(HEALTH_PATHS.liveness, 10, 6),
    readinessProbe: probe(HEALTH_PATHS.readiness, 5, 3),
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "384Mi" } },
    securityContext: agentSecurity,
    volumeMounts: agentMounts,
    terminationMessagePolicy: "FallbackToLogsOnError",
  };

  const spec: V1DaemonSetSpec = {
    selector: { matchLabels: selector },
    template: {
      metadata: {
        labels: podLabels,
        annotations: {
          "kubectl.kubernetes.io/default-container": "agent",
          "vpccni.io/policy-digest": input.policyDigest,
        },
      },
      spec: {
        automountServiceAccountToken: true,
        containers: [agent],
        // The node's resolver: cluster DNS runs in pods, which need this agent to get IPs.
        dnsPolicy: "Default",
        enableServiceLinks: false,
        hostNetwork: true,
        initContainers: [install],
        nodeSelector: { "kubernetes.io/os": "linux", ...policy.spec.nodeSelector },
        priorityClassName: "system-node-critical",
        serviceAccountName: names.agent(name),
        terminationGracePeriodSeconds: 30,
        // Pod networking is needed on every selected node, tainted or not.
        tolerations: [{ operator: "Exists" }],
        volumes,
      },
    },
    // Agents restart one tenth of the nodes at a time; running pods keep their network
    // meanwhile (only new pods on those nodes wait). No surge: two agents would share ports.
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%", maxSurge: 0 } },
  };
  return {
    source: input.source,
    manifest: {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: {
        name: names.agent(name),
        namespace,
        labels: withUserLabels(policy.metadata.labels, commonLabels("agent", name)),
      },
      spec,
    } satisfies Manifest<V1DaemonSet>,
  };
}
