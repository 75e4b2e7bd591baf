// The CNI network configuration the init container installs as /etc/cni/net.d/10-vpccni.conflist:
// vpccni gives the pod its VPC IP, then the reference portmap plugin serves hostPort.
import { type CniVersion, DEFAULT_CNI_VERSION, pluginTimeoutMs } from "../schema/cni.ts";
import { PATHS } from "./agent-contract.ts";

export const CNI_VERSION = DEFAULT_CNI_VERSION;
export const NETWORK_NAME = "vpccni";

export function conflist(cniVersion: CniVersion = DEFAULT_CNI_VERSION): string {
  const config = {
    cniVersion,
    name: NETWORK_NAME,
    plugins: [
      // The binary hands the call to the agent over this socket (netconf field `socket`), and
      // waits for it a little longer than the agent's own ADD timeout (--add-timeout's default).
      { socket: PATHS.socket, timeoutMs: pluginTimeoutMs(), type: "vpccni" },
      { capabilities: { portMappings: true }, type: "portmap" },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
