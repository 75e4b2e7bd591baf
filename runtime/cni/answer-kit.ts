// The agent's answer to an ADD, as the CNI unit and fuzz tests inject it.
import type { AddResponse } from "./protocol.ts";

export function addAnswer(ip = "10.0.1.5"): AddResponse {
  return {
    ip,
    prefixLength: 32,
    gateway: "169.254.1.1",
    eniMac: "02:00:00:00:00:01",
    routeTable: 2003,
    hostVeth: "vpc0123456789ab",
    hostMac: "0e:00:00:00:00:01",
    podMac: "0a:00:00:00:00:01",
  };
}
