// The CNI network configuration the init container installs in the node's CNI folder.
// default mode: 10-vpccni.conflist, vpccni gives every pod its VPC IP, then the reference
// portmap plugin serves hostPort. mixed mode: 00-vpccni.conflist (it sorts first, so the
// runtime picks it), vpccni alone, handing every pod that did not opt in to the node's
// previous configuration, which the init container kept (docs/cni.md, Mixed mode).
import { type CniVersion, DEFAULT_CNI_VERSION, POD_ANNOTATIONS_CAPABILITY, pluginTimeoutMs } from "../schema/cni.ts";
import type { PolicySpec } from "../schema/index.ts";
import { keptDelegatePath, PATHS } from "./agent-contract.ts";

export const CNI_VERSION = DEFAULT_CNI_VERSION;
export const NETWORK_NAME = "vpccni";

export type CniMode = PolicySpec["mode"];

/**
 * Capabilities the runtime fills in runtimeConfig, declared in mixed mode so that vpccni
 * receives them and passes each on to the delegated plugins that declare it (as libcni does).
 */
export const DELEGATED_CAPABILITIES = ["bandwidth", "ipRanges", "portMappings"] as const;

/**
 * Mixed mode: the pod's annotations, which containerd's CRI (1.5.0 on) passes in runtimeConfig.
 * The plugin hands them to the agent, which decides from the networks annotation who wires the
 * pod; so the agent needs no right to read pods. Delegated plugins that declare it get it too.
 */
export const MIXED_CAPABILITIES = [...DELEGATED_CAPABILITIES, POD_ANNOTATIONS_CAPABILITY].sort();

export interface ConflistOptions {
  cniVersion?: CniVersion;
  mode?: CniMode;
  /** The node's CNI configuration folder (where the kept delegate lives in mixed mode). */
  cniConfDir?: string;
}

export function conflist(opts: ConflistOptions = {}): string {
  const cniVersion = opts.cniVersion ?? DEFAULT_CNI_VERSION;
  // The binary hands the call to the agent over this socket (netconf field `socket`), and
  // waits for it a little longer than the agent's own ADD timeout (--add-timeout's default).
  const vpccni = { socket: PATHS.socket, timeoutMs: pluginTimeoutMs(), type: "vpccni" };
  const plugins =
    opts.mode === "mixed"
      ? [
          {
            capabilities: Object.fromEntries(MIXED_CAPABILITIES.map((c) => [c, true])),
            delegate: { conflist: keptDelegatePath(opts.cniConfDir ?? PATHS.hostCniConfDir) },
            ...vpccni,
          },
        ]
      : [vpccni, { capabilities: { portMappings: true }, type: "portmap" }];
  return `${JSON.stringify({ cniVersion, name: NETWORK_NAME, plugins }, null, 2)}\n`;
}
