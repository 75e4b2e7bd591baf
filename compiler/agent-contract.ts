// What the DaemonSet promises the node agent and the image: paths, ports, arguments and
// environment. They follow `vpccni agent --help` (cli/commands/agent.ts) and the CNI plugin's
// netconf (runtime/cni/config.ts); the agent can import these constants so that the manifest
// and the program cannot drift apart.
import { CONFLIST_FILES, DELEGATE_CONFLIST, DELEGATE_DIR } from "../schema/cni.ts";

/**
 * The agent's one TCP listener: /healthz, /readyz and /metrics. On every address of the node
 * (hostNetwork), because Prometheus scrapes /metrics from elsewhere in the VPC; the kubelet
 * probes the pod IP, which is the node's.
 */
export const PORT = 61678;
export const HEALTH_PATHS = { liveness: "/healthz", readiness: "/readyz" } as const;
export const METRICS_PATH = "/metrics";

/** Directories on the node and where the containers see them. */
export const PATHS = {
  /** SQLite state and intent journal; survives agent restarts (hostPath, same path). */
  stateDir: "/var/lib/vpccni",
  /** The agent's unix socket for the CNI binary, 0600 root (hostPath, same path). */
  socketDir: "/run/vpccni",
  socket: "/run/vpccni/cni.sock",
  /**
   * Pod network namespaces the container runtime creates (/run/netns/cni-...), mounted with
   * HostToContainer propagation so that namespaces made after the agent started show up.
   */
  netnsDir: "/run/netns",
  /** The policy ConfigMap, read-only; the file is `policy.yaml`. */
  policyDir: "/etc/vpccni/policy",
  policyFile: "/etc/vpccni/policy/policy.yaml",
  /** The credentials Secret (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY), read-only, 0400. */
  credentialsDir: "/etc/vpccni/credentials",
  /** The CNI conflist ConfigMap, read-only, in the init container. */
  cniConfigDir: "/etc/vpccni/cni",
  /**
   * Host directories the init container writes into, seen under /host. The agent mounts the
   * CNI configuration folder too: switching off removes vpccni's conflist from it.
   */
  hostCniBinDir: "/opt/cni/bin",
  hostCniConfDir: "/etc/cni/net.d",
  cniBinMount: "/host/opt/cni/bin",
  cniConfMount: "/host/etc/cni/net.d",
  /** In the image: the CNI plugin binary (scripts/build-cni.sh) and the reference portmap. */
  cniBinaryInImage: "/opt/vpccni/bin/vpccni-cni",
  portmapInImage: "/opt/vpccni/bin/portmap",
  /**
   * The node's /proc/sys/net, writable: a container's own /proc/sys is read-only, and the
   * agent turns forwarding on and (dataPlane.manageRpFilter) rp_filter off on every ENI as it
   * appears. The files show the namespace of the process that opens them, so the same mount
   * serves a pod's namespace after setns.
   */
  sysctlNetMount: "/host/proc/sys/net",
  /**
   * kubelet's device-plugin folder (hostPath, same path): the agent serves eni-ip there as a
   * device plugin (its socket vpccni-eni-ip.sock, 0600) and registers with kubelet.sock.
   */
  devicePluginDir: "/var/lib/kubelet/device-plugins",
} as const;

export const FILES = {
  /** default mode's conflist. */
  conflist: CONFLIST_FILES.default,
  /** mixed mode's: a name that sorts before the node's existing configuration, so the runtime picks it. */
  mixedConflist: CONFLIST_FILES.mixed,
  /** mixed mode: the node's previous configuration, kept once at install in this folder of the CNI folder. */
  delegateDir: DELEGATE_DIR,
  delegateConflist: DELEGATE_CONFLIST,
  cniBinary: "vpccni",
  policy: "policy.yaml",
} as const;

/** Environment of the agent container. */
export const ENV = {
  /** `vpccni agent` reads its node from NODE_NAME (downward API spec.nodeName). */
  nodeName: "NODE_NAME",
  podName: "POD_NAME",
  podNamespace: "POD_NAMESPACE",
  /** Where the node's net sysctls are writable (see PATHS.sysctlNetMount). */
  sysctlNetDir: "VPCCNI_SYSCTL_NET_DIR",
  /**
   * Bun reads extra CAs only at start: pointing it at the ServiceAccount's CA spares the agent
   * its restart-with-the-CA (one process, not two).
   */
  extraCaCerts: "NODE_EXTRA_CA_CERTS",
} as const;

/** The in-cluster CA the kubelet mounts with the ServiceAccount token. */
export const SERVICE_ACCOUNT_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

/** The image's entry point for the agent: the `vpccni` CLI. */
export const AGENT_COMMAND = ["vpccni"] as const;

/** `vpccni agent ...`: flags as `vpccni agent --help` names them. */
export function agentArgs(input: { credentials: boolean }): string[] {
  return [
    "agent",
    `--policy=${PATHS.policyFile}`,
    `--state-dir=${PATHS.stateDir}`,
    `--socket=${PATHS.socket}`,
    `--listen=0.0.0.0:${PORT}`,
    `--device-plugin-dir=${PATHS.devicePluginDir}`,
    `--cni-conf-dir=${PATHS.cniConfMount}`,
    ...(input.credentials ? [`--credentials-dir=${PATHS.credentialsDir}`] : []),
  ];
}

/** The conflist's file name in the node's CNI folder: the one the runtime must pick. */
export function conflistFile(mode: "default" | "mixed"): string {
  return mode === "mixed" ? FILES.mixedConflist : FILES.conflist;
}

/** Where the kept previous configuration lives on the node (what the mixed conflist names). */
export function keptDelegatePath(cniConfDir: string): string {
  return `${cniConfDir}/${FILES.delegateDir}/${FILES.delegateConflist}`;
}

/**
 * The init container: copy the CNI binary, then the conflist, each to a temporary name and
 * renamed into place, so the kubelet never reads half a file; portmap only when the node has
 * none (a node's own, possibly newer, plugin wins). The conflist of the other mode goes, so a
 * mode switch leaves one. Needs sh, install, mv, ls and grep in the image.
 *
 * mixed mode, before the conflist: the node's previous configuration (the first file, in the
 * byte order libcni sorts by, that is a CNI configuration and not vpccni's) is copied once to
 * <conf dir>/vpccni/delegate.conflist and kept: a re-run never overwrites it, so it can never
 * become vpccni's own. With no previous configuration, or one that would sort before
 * 00-vpccni.conflist, the container fails with the reason (and the kubelet retries it).
 *
 * Switched off (spec.enabled: false): the binary only, for the DEL of pods still running; the
 * CNI folder is left as it is. The agent removes the conflist once the node is drained, and an
 * agent restarted later (a rollout, a reboot) must not find it back.
 */
export function installCniScript(mode: "default" | "mixed", options: { enabled?: boolean } = {}): string {
  const conf = PATHS.cniConfMount;
  const file = conflistFile(mode);
  const other = mode === "mixed" ? FILES.conflist : FILES.mixedConflist;
  const keptDir = `${conf}/${FILES.delegateDir}`;
  const kept = `${keptDir}/${FILES.delegateConflist}`;
  const mixed =
    mode !== "mixed"
      ? []
      : [
          // The first CNI configuration that is not vpccni's (by name or by a vpccni plugin in it).
          `first=$(LC_ALL=C ls -1 ${conf} | while read -r f; do case "$f" in ${FILES.conflist}|${FILES.mixedConflist}) ;; *.conf|*.conflist|*.json) if [ -f ${conf}/"$f" ] && ! grep -q '"type": *"vpccni"' ${conf}/"$f"; then echo "$f"; break; fi ;; esac; done)`,
          `if [ ! -e ${kept} ]; then`,
          `  if [ -z "$first" ]; then echo "vpccni mixed mode: the node's CNI folder holds no configuration besides vpccni's; mixed mode hands the pods that do not opt in to the node's existing CNI, so that CNI must be installed first (this container is retried)" >&2; exit 1; fi`,
          `  mkdir -p ${keptDir}`,
          `  install -m 0644 ${conf}/"$first" ${keptDir}/.${FILES.delegateConflist}.tmp`,
          `  mv -f ${keptDir}/.${FILES.delegateConflist}.tmp ${kept}`,
          `  echo "vpccni mixed mode: kept $first as ${FILES.delegateDir}/${FILES.delegateConflist}, the configuration of pods that do not opt in"`,
          "fi",
          `if [ -n "$first" ] && [ "$(printf '%s\\n%s\\n' "$first" ${file} | LC_ALL=C sort | head -n 1)" != ${file} ]; then echo "vpccni mixed mode: $first sorts before ${file}, so the runtime would keep using it; rename it to sort after ${file}" >&2; exit 1; fi`,
        ];
  const binary = [
    "set -eu",
    `install -m 0755 ${PATHS.cniBinaryInImage} ${PATHS.cniBinMount}/.${FILES.cniBinary}.tmp`,
    `mv -f ${PATHS.cniBinMount}/.${FILES.cniBinary}.tmp ${PATHS.cniBinMount}/${FILES.cniBinary}`,
  ];
  if (options.enabled === false)
    return [
      ...binary,
      `echo "vpccni is switched off (spec.enabled: false): the CNI configuration is left to the agent, which removes ${file} once the node is drained"`,
      "",
    ].join("\n");
  return [
    ...binary,
    `if [ ! -e ${PATHS.cniBinMount}/portmap ]; then install -m 0755 ${PATHS.portmapInImage} ${PATHS.cniBinMount}/.portmap.tmp && mv -f ${PATHS.cniBinMount}/.portmap.tmp ${PATHS.cniBinMount}/portmap; fi`,
    ...mixed,
    `rm -f ${conf}/${other}`,
    `install -m 0644 ${PATHS.cniConfigDir}/${file} ${conf}/.${file}.tmp`,
    `mv -f ${conf}/.${file}.tmp ${conf}/${file}`,
    "",
  ].join("\n");
}

/** default mode's script (kept as a name: tests and docs quote it). */
export const INSTALL_CNI_SCRIPT = installCniScript("default");

/**
 * JavaScriptCore's optimizing tiers (DFG, and FTL above it) off in the agent; its code runs in
 * the interpreter and the baseline JIT. FTL's compilations lifted the agent's RSS by 12-20 MiB
 * for under a second, to 128-130 MiB, past the 128Mi request (bench/agent-memory.ts, docs/pool.md
 * "Agent memory"). DFG's compiled the hot code of a burst's first ADDs while they came: with it
 * off the agent spent a fifth less CPU on a 100-pod burst on a fresh node (median 280 against
 * 340-360 ms; docs/pool.md "Bursts") and peaked 5-10 MiB lower under churn, for 3-50 % more CPU
 * per ADD/DEL cycle at 70 cycles a second. The agent's hot code is small and its work is short
 * bursts; the controller keeps JavaScriptCore's defaults.
 */
export const AGENT_RUNTIME_ENV = [
  { name: "BUN_JSC_useDFGJIT", value: "0" },
  { name: "BUN_JSC_useFTLJIT", value: "0" },
] as const;
