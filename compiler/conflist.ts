// The CNI network configuration the init container installs as /etc/cni/net.d/10-vpccni.conflist:
// vpccni gives the pod its VPC IP, then the reference portmap plugin serves hostPort.
import { PATHS } from "./agent-contract.ts";

export const CNI_VERSION = "1.1.0";
export const NETWORK_NAME = "vpccni";

export function conflist(): string {
  const config = {
    cniVersion: CNI_VERSION,
    name: NETWORK_NAME,
    plugins: [
      // The binary hands the call to the agent over this socket (netconf field `socket`).
      { socket: PATHS.socket, type: "vpccni" },
      { capabilities: { portMappings: true }, type: "portmap" },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
