// What the DaemonSet promises the node agent, and what the agent must honour: paths, ports,
// arguments and environment. runtime/agent imports these constants, so the manifest and the
// program cannot drift apart without a type error or a failing test.

/** Ports on the node (hostNetwork): the pod's ports are the node's ports. */
export const PORTS = {
  /**
   * /healthz and /readyz. Bound to 127.0.0.1 only: nothing off the node needs them, and the
   * kubelet (in the host network namespace, like the agent) reaches them with `host: 127.0.0.1`.
   */
  health: 61678,
  /** /metrics on every address of the node, so that Prometheus can scrape it. */
  metrics: 61679,
} as const;

export const HEALTH_HOST = "127.0.0.1";
export const HEALTH_PATHS = { liveness: "/healthz", readiness: "/readyz" } as const;
export const METRICS_PATH = "/metrics";

/** Directories on the node and where the containers see them (same path on both sides). */
export const PATHS = {
  /** SQLite state and intent journal; survives agent restarts. */
  stateDir: "/var/lib/vpccni",
  /** The agent's unix socket for the CNI binary (0600, root). */
  socketDir: "/run/vpccni",
  socket: "/run/vpccni/agent.sock",
  /** The policy ConfigMap, mounted read-only; the file is `policy.yaml`. */
  policyDir: "/etc/vpccni/policy",
  policyFile: "/etc/vpccni/policy/policy.yaml",
  /** The CNI conflist ConfigMap, mounted read-only into the init container. */
  cniConfigDir: "/etc/vpccni/cni",
  /** Host directories the init container writes into, seen under /host. */
  hostCniBinDir: "/opt/cni/bin",
  hostCniConfDir: "/etc/cni/net.d",
  cniBinMount: "/host/opt/cni/bin",
  cniConfMount: "/host/etc/cni/net.d",
  /** The CNI plugin binary inside the image, copied to /opt/cni/bin/vpccni. */
  cniBinaryInImage: "/opt/vpccni/bin/vpccni-cni",
  /**
   * The node's /proc/sys/net, writable: a container's own /proc/sys is read-only, and the
   * agent sets rp_filter on every ENI as it appears. Only mounted when the policy asks for it.
   */
  sysctlNetMount: "/host/proc/sys/net",
} as const;

/** File names written on the node. */
export const FILES = {
  conflist: "10-vpccni.conflist",
  cniBinary: "vpccni",
  policy: "policy.yaml",
} as const;

/** Environment from the downward API; everything else is an argument. */
export const ENV = {
  nodeName: "NODE_NAME",
  podName: "POD_NAME",
  podNamespace: "POD_NAMESPACE",
} as const;

/** The image's entry point: the `vpccni` CLI with two subcommands. */
export const COMMAND = ["vpccni"] as const;

export interface AgentArgsInput {
  policyName: string;
  /** namespace/name of the credentials Secret, read by name through the API; none: CVM role. */
  credentialsSecret?: { namespace: string; name: string };
  manageRpFilter: boolean;
}

/** `vpccni agent ...`: the long-running node daemon. */
export function agentArgs(input: AgentArgsInput): string[] {
  return [
    "agent",
    `--policy-file=${PATHS.policyFile}`,
    `--state-dir=${PATHS.stateDir}`,
    `--socket=${PATHS.socket}`,
    `--health-address=${HEALTH_HOST}:${PORTS.health}`,
    `--metrics-address=0.0.0.0:${PORTS.metrics}`,
    ...(input.credentialsSecret ? [`--credentials-secret=${input.credentialsSecret.namespace}/${input.credentialsSecret.name}`] : []),
    ...(input.manageRpFilter ? [`--sysctl-net-dir=${PATHS.sysctlNetMount}`] : []),
  ];
}

/** `vpccni install-cni ...`: the init container; copies atomically (temp file + rename). */
export function installCniArgs(): string[] {
  return [
    "install-cni",
    `--cni-binary=${PATHS.cniBinaryInImage}`,
    `--bin-dir=${PATHS.cniBinMount}`,
    `--conflist=${PATHS.cniConfigDir}/${FILES.conflist}`,
    `--conf-dir=${PATHS.cniConfMount}`,
  ];
}
