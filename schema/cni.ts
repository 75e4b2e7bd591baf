// CNI settings that the compiler, the CNI plugin and the agent must agree on, defined once.

/** The CNI spec versions the plugin speaks; GC and STATUS exist from 1.1.0 on. */
export const CNI_VERSIONS = ["0.4.0", "1.0.0", "1.1.0"] as const;
export type CniVersion = (typeof CNI_VERSIONS)[number];
/**
 * What the compiled conflist declares: 1.0.0, the newest that the libcni inside containerd 1.6
 * and 1.7 (most nodes today) and Debian's portmap 1.1 accept. 1.1.0 breaks them: ADD fails
 * with "unsupported CNI result version" and DEL in portmap with "incompatible CNI versions".
 */
export const DEFAULT_CNI_VERSION: CniVersion = "1.0.0";

/** How long the agent lets a CNI ADD wait for the pool to grow before answering code 11. */
export const ADD_TIMEOUT_MS = 20_000;
/**
 * The plugin waits this much longer than the agent, so that the agent's own answer ("try
 * again later", code 11) always reaches the runtime instead of a plugin-side timeout.
 */
export const PLUGIN_TIMEOUT_MARGIN_MS = 5_000;

export function pluginTimeoutMs(addTimeoutMs: number = ADD_TIMEOUT_MS): number {
  return addTimeoutMs + PLUGIN_TIMEOUT_MARGIN_MS;
}

/**
 * The conflist vpccni installs in the node's CNI folder, by spec.mode (the install-cni init
 * container writes it, the agent removes it when switched off). mixed: a name that sorts before
 * the node's existing configuration, so the runtime picks it.
 */
export const CONFLIST_FILES = { default: "10-vpccni.conflist", mixed: "00-vpccni.conflist" } as const;
/** mixed mode: the node's previous configuration, kept once at install as <CNI folder>/vpccni/delegate.conflist. */
export const DELEGATE_DIR = "vpccni";
export const DELEGATE_CONFLIST = "delegate.conflist";

/**
 * The runtimeConfig capability under which containerd's CRI (since 1.5.0) hands a CNI plugin
 * the pod's annotations (`cni.WithCapability(annotations.PodAnnotations, config.Annotations)`
 * at sandbox set-up). Declared by vpccni in mixed mode: the agent learns a pod's networks
 * annotation from it, without any right to read pods from the API server.
 */
export const POD_ANNOTATIONS_CAPABILITY = "io.kubernetes.cri.pod-annotations";
