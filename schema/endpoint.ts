// Where the cloud API may be reached over plain http://. The VPC API's answers become routes
// and `ip` commands on every node, so an answer anyone on the path can read or forge is only
// acceptable on the machine itself (the local emulator) or when the policy says so.

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const LOOPBACK_V4 = new RegExp(`^127(?:\\.${OCTET}){3}$`);

/** The host of an endpoint as spec.cloud.endpoint spells it: [http[s]://]host[:port][/]. */
export function endpointHost(endpoint: string): string {
  return endpoint
    .trim()
    .replace(/^https?:\/\//, "")
    .replace(/\/$/, "")
    .replace(/:\d{1,5}$/, "");
}

/** 127.0.0.0/8 or localhost. (::1 cannot be written in spec.cloud.endpoint's form.) */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_V4.test(host) || host.toLowerCase() === "localhost";
}

/** A plain http:// endpoint whose host is not loopback: refused unless explicitly allowed. */
export function isInsecureEndpoint(endpoint: string): boolean {
  return endpoint.trim().startsWith("http://") && !isLoopbackHost(endpointHost(endpoint));
}

/**
 * What to log when an operator's command-line --endpoint overrides the policy's with an insecure
 * one: allowed (the command line is the operator's own, as the test beds and the demo use it for
 * the emulator on a VPC address), but said loudly. Undefined when there is nothing to say.
 */
export function endpointOverrideWarning(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined || !isInsecureEndpoint(endpoint)) return undefined;
  return `--endpoint ${JSON.stringify(endpoint)} is plain http:// to a host that is not loopback: the cloud's answers (addresses and CIDRs that go into the node's routes) can be read and forged on the way; a policy could name it only with spec.cloud.insecureEndpoint: true`;
}

export const INSECURE_ENDPOINT_ALLOWED =
  "https:// (or no scheme), http:// to a loopback host (127.0.0.0/8, localhost), or spec.cloud.insecureEndpoint: true";
