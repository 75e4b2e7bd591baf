// Shared by the emulator's tests: the real SDK pointed at an emulator, and small waits.
import http from "node:http";
import { vpc } from "tencentcloud-sdk-nodejs/tencentcloud/services/vpc";
import type { Emulator } from "./server.ts";

export type SdkClient = InstanceType<typeof vpc.v20170312.Client>;

/** Fast tasks so that tests spend their time on behaviour, not on waiting. */
export const FAST = { asyncMs: { create: 5, attach: 15, detach: 15, delete: 5, assign: 5, unassign: 5 } };

/**
 * The SDK signs for the service named by the endpoint's first label ("127" for 127.0.0.1:PORT)
 * and the API only accepts "vpc": this endpoint reads as `host` where the SDK builds the URL and
 * splits to "vpc" where it takes the service. `asIs` keeps the SDK's own choice.
 */
function endpointFor(host: string, asIs: boolean): string {
  if (asIs) return host;
  const endpoint = Object.assign(new String(host), {
    split: (separator: string | RegExp, limit?: number) => ["vpc", ...host.split(separator, limit).slice(1)],
  });
  return endpoint as unknown as string;
}

export function sdk(
  emu: Emulator,
  credential: { secretId: string; secretKey: string; token?: string } = emu.credentials,
  opts: { signAsEndpoint?: boolean } = {},
): SdkClient {
  // Under Bun the SDK's fetch ignores the agent and reads http_proxy; NO_PROXY is the way out.
  for (const name of ["NO_PROXY", "no_proxy"]) {
    const list = (process.env[name] ?? "").split(",").filter((s) => s !== "");
    if (!list.includes("127.0.0.1")) process.env[name] = [...list, "127.0.0.1"].join(",");
  }
  return new vpc.v20170312.Client({
    credential,
    region: emu.region,
    profile: {
      signMethod: "TC3-HMAC-SHA256",
      httpProfile: {
        endpoint: endpointFor(emu.endpoint, opts.signAsEndpoint ?? false),
        protocol: "http://",
        reqTimeout: 10,
        agent: new http.Agent({ keepAlive: true }),
      },
    },
  });
}

/** The API error code a call fails with; throws if it succeeds. */
export async function errorCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (e) {
    return (e as { code?: string }).code ?? `no code: ${(e as Error).message}`;
  }
  throw new Error("expected the call to fail, it succeeded");
}

/** Polls within DescribeVpcTaskResult's 20 requests per second, waiting out RequestLimitExceeded. */
export async function waitTask(client: SdkClient, taskId: string): Promise<string> {
  for (let i = 0; i < 500; i++) {
    try {
      const r = await client.DescribeVpcTaskResult({ TaskId: taskId });
      if (r.Status !== "RUNNING") return r.Status ?? "";
    } catch (e) {
      if ((e as { code?: string }).code !== "RequestLimitExceeded") throw e;
    }
    await Bun.sleep(10);
  }
  throw new Error(`task ${taskId} still RUNNING after 500 polls`);
}
