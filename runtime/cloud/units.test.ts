// Pure parts of the adapter: error mapping, backoff, token bucket, endpoint parsing.
import { expect, test } from "bun:test";
import http from "node:http";
import https from "node:https";
import { classify, kindOf, poolErrorKind } from "./errors.ts";
import { backoffMs, DEFAULT_RETRY, withRetry } from "./retry.ts";
import { makeVpcClient, parseEndpoint, signingAsVpc } from "./sdk.ts";
import { FakeClock } from "./emulated-vpc-kit.ts";
import { TokenBucket } from "./token-bucket.ts";
import { Waiter } from "./waits.ts";

test("Tencent error codes map onto the kinds the pool engine acts on", () => {
  const cases: [string, string, string][] = [
    ["AttachNetworkInterface", "LimitExceeded", "eni-quota"],
    ["CreateNetworkInterface", "LimitExceeded.NetworkInterfaceLimitExceeded", "eni-quota"],
    ["AssignPrivateIpAddresses", "LimitExceeded", "ip-quota"],
    ["AssignPrivateIpAddresses", "ResourceInsufficient.Subnet", "subnet-exhausted"],
    ["DeleteNetworkInterface", "ResourceNotFound", "not-found"],
    ["DescribeSubnets", "RequestLimitExceeded", "throttled"],
    ["DescribeSubnets", "RequestLimitExceeded.UinLimitExceeded", "throttled"],
    ["DescribeSubnets", "LimitExceeded.ActionLimited", "throttled"],
    ["DescribeSubnets", "AuthFailure.SignatureExpire", "auth"],
    ["AttachNetworkInterface", "UnsupportedOperation.ZoneMismatch", "zone-mismatch"],
    ["AttachNetworkInterface", "UnsupportedOperation.AttachmentAlreadyExists", "invalid-state"],
    ["DeleteNetworkInterface", "ResourceInUse", "invalid-state"],
    ["AssignPrivateIpAddresses", "UnsupportedOperation.MutexOperationTaskRunning", "busy"],
    ["CreateNetworkInterface", "InvalidParameterValue", "invalid-parameter"],
    ["CreateNetworkInterface", "InternalError", "transient"],
    ["AssignPrivateIpAddresses", "LimitExceeded.Address", "ip-quota"],
    ["DescribeNetworkInterfaces", "LimitExceeded.NumberOfFilters", "invalid-parameter"],
    ["AssignPrivateIpAddresses", "OperationDenied.MutexTaskRunning", "busy"],
    ["CreateNetworkInterface", "UnsupportedOperation.IdempotentProcessing", "busy"],
    ["CreateNetworkInterface", "UnsupportedOperation.IdempotentParameterMismatch", "invalid-parameter"],
    ["AssignPrivateIpAddresses", "ResourceInUse.Address", "address-in-use"],
    ["AssignPrivateIpAddresses", "ResourceInUse", "address-in-use"],
    ["CreateNetworkInterface", "ResourceInUse", "address-in-use"],
    ["UnassignPrivateIpAddresses", "UnauthorizedOperation.PrimaryIp", "invalid-parameter"],
    ["UnassignPrivateIpAddresses", "InvalidNetworkInterfaceId.NotFound", "not-found"],
    ["AttachNetworkInterface", "InvalidInstanceId.NotFound", "not-found"],
    ["DetachNetworkInterface", "UnsupportedOperation.AttachmentNotFound", "invalid-state"],
    ["DescribeSubnets", "UnauthorizedOperation", "auth"],
    ["DescribeNetworkInterfaces", "InvalidParameter.FilterInvalidKey", "invalid-parameter"],
  ];
  expect(cases.map(([a, c]) => kindOf(a, c) as string)).toEqual(cases.map(([, , k]) => k));
  expect(poolErrorKind("zone-mismatch")).toBe("transient");
  expect(poolErrorKind("ip-quota")).toBe("ip-quota");
});

test("every family of Tencent codes, and the exact codes that are exceptions to it", () => {
  const kinds = (action: string, codes: string[]) => codes.map((c) => `${c} ${kindOf(action, c)}`);
  expect(
    kinds("DetachNetworkInterface", [
      "UnauthorizedOperation.AttachmentNotFound",
      "UnauthorizedOperation.Other",
      "AuthFailure.SecretIdNotFound",
      "InternalError.Busy",
      "InternalServerError",
      "ServiceUnavailable",
      "Unknown.InternalError",
      "LimitExceeded.TagKeyPerResource",
      "LimitExceeded.Other",
      "ResourceNotFound.Eni",
      "InvalidParameterValue.NetworkInterfaceNotFound",
      "UnsupportedOperation.InvalidState",
      "InvalidState.Eni",
      "InvalidParameterValue.Malformed",
      "MissingParameter",
      "UnknownParameter.X",
      "UnsupportedRegion",
      "InvalidAction",
      "X.MissingParameter",
      "NotSupported",
    ]),
  ).toEqual([
    "UnauthorizedOperation.AttachmentNotFound invalid-state",
    "UnauthorizedOperation.Other auth",
    "AuthFailure.SecretIdNotFound auth",
    "InternalError.Busy transient",
    "InternalServerError transient",
    "ServiceUnavailable transient",
    "Unknown.InternalError transient",
    "LimitExceeded.TagKeyPerResource invalid-parameter",
    "LimitExceeded.Other eni-quota",
    "ResourceNotFound.Eni not-found",
    "InvalidParameterValue.NetworkInterfaceNotFound not-found",
    "UnsupportedOperation.InvalidState invalid-state",
    "InvalidState.Eni invalid-state",
    "InvalidParameterValue.Malformed invalid-parameter",
    "MissingParameter invalid-parameter",
    "UnknownParameter.X invalid-parameter",
    "UnsupportedRegion invalid-parameter",
    "InvalidAction invalid-parameter",
    "X.MissingParameter transient",
    "NotSupported transient",
  ]);
  // The exact codes win over their families, whatever the action.
  expect(
    kinds("CreateNetworkInterface", ["LimitExceeded.NetworkInterfaceLimitExceeded", "LimitExceeded.Address"]),
  ).toEqual(["LimitExceeded.NetworkInterfaceLimitExceeded eni-quota", "LimitExceeded.Address ip-quota"]);
  expect(kinds("AssignPrivateIpAddresses", ["LimitExceeded.NetworkInterfaceLimitExceeded"])).toEqual([
    "LimitExceeded.NetworkInterfaceLimitExceeded eni-quota",
  ]);
  const pool = ["eni-quota", "ip-quota", "subnet-exhausted", "throttled", "not-found", "auth", "transient"] as const;
  for (const k of pool) expect(poolErrorKind(k)).toBe(k);
  for (const k of ["busy", "invalid-state", "address-in-use", "timeout"] as const)
    expect(poolErrorKind(k)).toBe("transient");
});

test("classify: the code and RequestId when present and not empty; the message names action and code", () => {
  const err = classify("AttachNetworkInterface", { code: "ResourceInUse", requestId: "r-9", message: "in use" });
  expect([err.name, err.kind, err.code, err.requestId, err.message, err.retryable]).toEqual([
    "CloudError",
    "invalid-state",
    "ResourceInUse",
    "r-9",
    "AttachNetworkInterface: ResourceInUse: in use",
    false,
  ]);
  expect(classify("X", err)).toBe(err); // already classified: kept as it is
  const blank = classify("DescribeSubnets", { code: "", requestId: "", message: 7 });
  expect([blank.kind, blank.code, blank.requestId, blank.message]).toEqual([
    "transient",
    undefined,
    undefined,
    "DescribeSubnets: [object Object]",
  ]);
  expect(classify("DescribeSubnets", { code: 5, requestId: 6 })).toMatchObject({
    code: undefined,
    requestId: undefined,
  });
  expect(classify("DescribeSubnets", "socket hang up").message).toBe("DescribeSubnets: socket hang up");
  expect(classify("DescribeSubnets", undefined).message).toBe("DescribeSubnets: undefined");
});

test("a failure without an API code is a transient network error; an HTTP status is kept", () => {
  expect(classify("DescribeSubnets", new Error("ECONNREFUSED"))).toMatchObject({
    kind: "transient",
    code: undefined,
    retryable: true,
  });
  expect(classify("DescribeSubnets", Object.assign(new Error("Bad Gateway"), { httpCode: 502 }))).toMatchObject({
    kind: "transient",
    code: "HTTP 502",
  });
  expect(
    classify("X", Object.assign(new Error("m"), { code: "AuthFailure.SignatureFailure", requestId: "r-1" })),
  ).toMatchObject({ kind: "auth", retryable: false, requestId: "r-1" });
});

test("backoff grows exponentially, is capped, and its jitter keeps at least half the delay", () => {
  const p = { ...DEFAULT_RETRY, baseMs: 100, maxMs: 1_000 };
  expect([1, 2, 3, 4, 5].map((n) => backoffMs(p, n, () => 0))).toEqual([50, 100, 200, 400, 500]);
  expect([1, 2, 3, 4, 5].map((n) => Math.round(backoffMs(p, n, () => 0.999999)))).toEqual([100, 200, 400, 800, 1000]);
});

test("withRetry retries only retryable kinds, up to the attempt limit", async () => {
  const clock = new FakeClock();
  let calls = 0;
  const throttled = () => {
    calls++;
    return Promise.reject(Object.assign(new Error("slow down"), { code: "RequestLimitExceeded" }));
  };
  await expect(
    withRetry("A", throttled, { policy: { attempts: 4, baseMs: 10, maxMs: 100 }, clock, random: () => 0.5 }),
  ).rejects.toMatchObject({ kind: "throttled" });
  expect(calls).toBe(4);
  calls = 0;
  const quota = () => {
    calls++;
    return Promise.reject(Object.assign(new Error("full"), { code: "LimitExceeded" }));
  };
  await expect(
    withRetry("AttachNetworkInterface", quota, { policy: DEFAULT_RETRY, clock, random: () => 0.5 }),
  ).rejects.toMatchObject({ kind: "eni-quota" });
  expect(calls).toBe(1);
});

test("a busy ENI (another task, or the first call under this ClientToken still running) is retried", async () => {
  const clock = new FakeClock();
  const codes = ["UnsupportedOperation.MutexOperationTaskRunning", "UnsupportedOperation.IdempotentProcessing"];
  let calls = 0;
  const busyTwice = () =>
    ++calls <= codes.length
      ? Promise.reject(Object.assign(new Error("busy"), { code: codes[calls - 1] }))
      : Promise.resolve("done");
  const delays: number[] = [];
  const answer = await withRetry("AssignPrivateIpAddresses", busyTwice, {
    policy: DEFAULT_RETRY,
    clock,
    random: () => 0,
    onRetry: (err, attempt, delay) => delays.push(attempt, delay, err.kind === "busy" ? 1 : 0),
  });
  expect(answer).toBe("done");
  expect(calls).toBe(3);
  expect(delays).toEqual([1, 50, 1, 2, 100, 1]); // attempt, equal-jitter delay, kind busy
  // Busy for good: DEFAULT_RETRY's 6 attempts, then the busy error itself.
  let tries = 0;
  const alwaysBusy = () => {
    tries++;
    return Promise.reject(Object.assign(new Error("busy"), { code: "OperationDenied.MutexTaskRunning" }));
  };
  await expect(
    withRetry("AssignPrivateIpAddresses", alwaysBusy, { policy: DEFAULT_RETRY, clock, random: () => 0 }),
  ).rejects.toMatchObject({ kind: "busy", retryable: true });
  expect(tries).toBe(DEFAULT_RETRY.attempts);
});

test("the token bucket lets a burst through, then paces at the rate", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ perSecond: 4, burst: 2 }, clock);
  const start = clock.now();
  for (let i = 0; i < 6; i++) await bucket.take();
  // 2 at once, then 4 more at 250 ms each.
  expect(clock.now() - start).toBe(1_000);
  expect(() => new TokenBucket({ perSecond: 0, burst: 1 }, clock)).toThrow("perSecond must be > 0");
  expect(() => new TokenBucket({ perSecond: 1, burst: 0.5 }, clock)).toThrow("burst >= 1");
});

test("an idle token bucket fills up to its burst, not past it", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ perSecond: 4, burst: 2 }, clock);
  for (let i = 0; i < 2; i++) await bucket.take();
  await clock.sleep(60_000); // a quiet minute would earn 240 tokens without the cap
  const start = clock.now();
  for (let i = 0; i < 4; i++) await bucket.take();
  // the burst of 2 at once, then one per 250 ms
  expect(clock.now() - start).toBe(500);
});

test("endpoints: host, optional port, optional protocol (https by default)", () => {
  expect(parseEndpoint("vpc.tencentcloudapi.com")).toEqual({ protocol: "https://", host: "vpc.tencentcloudapi.com" });
  expect(parseEndpoint("http://127.0.0.1:8080/")).toEqual({ protocol: "http://", host: "127.0.0.1:8080" });
  expect(() => parseEndpoint("ftp://x")).toThrow("cloud endpoint 'ftp://x' is not a host name");
  // The SDK signs for the endpoint's first label; the API accepts only "vpc".
  const local = signingAsVpc("127.0.0.1:8080");
  expect(`http://${local}/`).toBe("http://127.0.0.1:8080/");
  expect(local.split(".")[0]).toBe("vpc");
  expect(signingAsVpc("vpc.tencentcloudapi.com")).toBe("vpc.tencentcloudapi.com");
});

test("the SDK client: the endpoint's scheme decides its agent; without a proxy the host goes on NO_PROXY", () => {
  const credentials = { description: "test", get: async () => ({ secretId: "a", secretKey: "b" }) };
  const env: Record<string, string | undefined> = { NO_PROXY: " a.example , " };
  const profile = (endpoint: string, extra: object = {}) =>
    (
      makeVpcClient({ region: "ap-guangzhou", endpoint, credentials, env, ...extra }) as unknown as {
        profile: {
          signMethod: string;
          httpProfile: { protocol: string; reqTimeout: number; agent?: object; proxy?: string };
        };
      }
    ).profile;
  const local = profile(" http://127.0.0.1:9000 ", { requestTimeoutMs: 2_500 });
  expect([local.signMethod, local.httpProfile.protocol, local.httpProfile.reqTimeout]).toEqual([
    "TC3-HMAC-SHA256",
    "http://",
    3,
  ]);
  expect(local.httpProfile.agent).toBeInstanceOf(http.Agent);
  expect((local.httpProfile.agent as { keepAlive: boolean }).keepAlive).toBe(true);
  const cloud = profile("vpc.tencentcloudapi.com");
  expect([cloud.httpProfile.protocol, cloud.httpProfile.reqTimeout]).toEqual(["https://", 10]);
  expect(cloud.httpProfile.agent).toBeInstanceOf(https.Agent);
  expect(env).toEqual({
    NO_PROXY: "a.example,127.0.0.1,vpc.tencentcloudapi.com",
    no_proxy: "127.0.0.1,vpc.tencentcloudapi.com",
  });
  const proxied = profile("vpc.internal.example", { proxy: "http://proxy:3128" });
  expect([proxied.httpProfile.agent, proxied.httpProfile.proxy]).toEqual([undefined, "http://proxy:3128"]);
  expect(env.NO_PROXY).not.toContain("vpc.internal.example");
  expect(parseEndpoint("10.0.0.1:1234")).toEqual({ protocol: "https://", host: "10.0.0.1:1234" });
  expect(() => parseEndpoint("10.0.0.1:123456")).toThrow("is not a host name");
  expect(signingAsVpc("10.0.0.1:9000").split(".", 2)).toEqual(["vpc", "0"]);
});

test("a task is first polled when it is expected done, then polls back off to the cap", async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const polls: number[] = [];
  const doneAfter = (ms: number) => async () => {
    polls.push(clock.now() - start);
    return clock.now() - start >= ms ? "SUCCESS" : "RUNNING";
  };
  const waiter = (doneMs: number) =>
    new Waiter({ clock, taskStatus: doneAfter(doneMs), getEni: async () => undefined });
  await waiter(50).task("AssignPrivateIpAddresses", "t1");
  expect(polls).toEqual([50]); // a 50 ms task: one poll, no overshoot
  polls.length = 0;
  const attach = clock.now();
  await waiter(attach - start + 500).task("AttachNetworkInterface", "t2", "attach");
  expect(polls.map((t) => t - (attach - start))).toEqual([500]);
  polls.length = 0;
  const slow = clock.now();
  await waiter(slow - start + 5_000).task("AttachNetworkInterface", "t3", "attach");
  // 500, then +100, +200, +400, +800, +1600, +2000 (capped): 7 polls for a 5 s attach.
  expect(polls.map((t) => t - (slow - start))).toEqual([500, 600, 800, 1200, 2000, 3600, 5600]);
});
