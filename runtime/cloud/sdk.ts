// Builds the SDK client. Only the VPC service is imported: the package index would load every
// Tencent Cloud product (see docs/cloud.md for the start-up figures).
import http from "node:http";
import https from "node:https";
import { vpc } from "tencentcloud-sdk-nodejs/tencentcloud/services/vpc";
import type * as M from "tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models";
import type { CredentialSource } from "./credentials.ts";

export type VpcClient = InstanceType<typeof vpc.v20170312.Client>;

/** Request and response models of the actions vpccni calls. */
export interface VpcActions {
  CreateNetworkInterface: [M.CreateNetworkInterfaceRequest, M.CreateNetworkInterfaceResponse];
  AttachNetworkInterface: [M.AttachNetworkInterfaceRequest, M.AttachNetworkInterfaceResponse];
  DetachNetworkInterface: [M.DetachNetworkInterfaceRequest, M.DetachNetworkInterfaceResponse];
  DeleteNetworkInterface: [M.DeleteNetworkInterfaceRequest, M.DeleteNetworkInterfaceResponse];
  AssignPrivateIpAddresses: [M.AssignPrivateIpAddressesRequest, M.AssignPrivateIpAddressesResponse];
  UnassignPrivateIpAddresses: [M.UnassignPrivateIpAddressesRequest, M.UnassignPrivateIpAddressesResponse];
  DescribeNetworkInterfaces: [M.DescribeNetworkInterfacesRequest, M.DescribeNetworkInterfacesResponse];
  DescribeSubnets: [M.DescribeSubnetsRequest, M.DescribeSubnetsResponse];
  DescribeNetworkInterfaceLimit: [M.DescribeNetworkInterfaceLimitRequest, M.DescribeNetworkInterfaceLimitResponse];
  DescribeVpcTaskResult: [M.DescribeVpcTaskResultRequest, M.DescribeVpcTaskResultResponse];
}
export type VpcAction = keyof VpcActions;

/**
 * One SDK call with a deadline. The SDK's own reqTimeout is a node-fetch option that Bun's
 * fetch ignores (a hung request would hang forever); an AbortSignal works in both runtimes.
 */
export function send<A extends VpcAction>(
  client: VpcClient,
  action: A,
  req: VpcActions[A][0],
  timeoutMs: number,
): Promise<VpcActions[A][1]> {
  return client.request(action, req, { signal: AbortSignal.timeout(timeoutMs) }) as Promise<VpcActions[A][1]>;
}

export interface SdkOptions {
  region: string;
  /** Host[:port] with an optional http:// or https:// (default https://), as policy spec.cloud.endpoint. */
  endpoint: string;
  credentials: CredentialSource;
  /** Deadline of one HTTP request, ms (default 10 000); a request past it counts as a network error. */
  requestTimeoutMs?: number;
  /**
   * An HTTP(S) proxy to use. Without it no proxy is used, whatever http_proxy says: the SDK
   * would otherwise send every call, loopback emulator included, through http_proxy.
   */
  proxy?: string;
  /** The environment to adjust (default process.env); see bypassProxy. */
  env?: Record<string, string | undefined>;
}

export function parseEndpoint(endpoint: string): { protocol: "http://" | "https://"; host: string } {
  const m = /^(https?:\/\/)?([A-Za-z0-9.-]+(?::\d{1,5})?)\/?$/.exec(endpoint.trim());
  if (!m)
    throw new Error(
      `cloud endpoint '${endpoint}' is not a host name with an optional port and http:// or https://, e.g. vpc.tencentcloudapi.com`,
    );
  return { protocol: (m[1] as "http://" | "https://" | undefined) ?? "https://", host: m[2]! };
}

export function makeVpcClient(opts: SdkOptions): VpcClient {
  const { protocol, host } = parseEndpoint(opts.endpoint);
  // Under Node an explicit agent has priority over http_proxy in the SDK's fetch (and keeps
  // connections alive). Under Bun the SDK's node-fetch is Bun's native fetch, which ignores
  // the agent and reads http_proxy itself; only NO_PROXY keeps it off the proxy.
  const agent = opts.proxy
    ? undefined
    : protocol === "http://"
      ? new http.Agent({ keepAlive: true })
      : new https.Agent({ keepAlive: true });
  if (!opts.proxy) bypassProxy(host, opts.env ?? process.env);
  return new vpc.v20170312.Client({
    credential: { getCredential: () => opts.credentials.get() },
    region: opts.region,
    profile: {
      signMethod: "TC3-HMAC-SHA256",
      httpProfile: {
        endpoint: signingAsVpc(host),
        protocol,
        reqTimeout: Math.ceil((opts.requestTimeoutMs ?? 10_000) / 1000),
        ...(agent ? { agent } : { proxy: opts.proxy }),
      },
    },
  });
}

/**
 * The SDK names the service of the TC3 credential scope after the endpoint's first label
 * (`endpoint.split(".")[0]`): a private endpoint given as an address, or the emulator's
 * 127.0.0.1:PORT, signs for service "10" or "127", and the API refuses that
 * (AuthFailure.InvalidAuthorization, "`Service` in Credential not valid"). The value returned
 * reads as `host` wherever the SDK builds the URL and the Host header, and splits to "vpc"
 * where it takes the service. A host already starting with "vpc." is returned as it is.
 */
export function signingAsVpc(host: string): string {
  if (host.split(".")[0] === "vpc") return host;
  const endpoint = Object.assign(new String(host), {
    split: (separator: string | RegExp, limit?: number) => ["vpc", ...host.split(separator, limit).slice(1)],
  });
  return endpoint as unknown as string;
}

/**
 * Adds the endpoint's host to NO_PROXY and no_proxy, the only per-host switch Bun's fetch has.
 * It changes the process environment, on purpose and only by appending this one host.
 */
export function bypassProxy(hostPort: string, env: Record<string, string | undefined>): void {
  const host = hostPort.replace(/:\d+$/, "");
  for (const name of ["NO_PROXY", "no_proxy"]) {
    const list = (env[name] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (!list.includes(host)) env[name] = [...list, host].join(",");
  }
}
