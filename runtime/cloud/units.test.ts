// Pure parts of the adapter: error mapping, backoff, token bucket, endpoint parsing.
import { expect, test } from "bun:test";
import { classify, kindOf, poolErrorKind } from "./errors.ts";
import { backoffMs, DEFAULT_RETRY, withRetry } from "./retry.ts";
import { parseEndpoint, signingAsVpc } from "./sdk.ts";
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

test("the token bucket lets a burst through, then paces at the rate", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ perSecond: 4, burst: 2 }, clock);
  const start = clock.now();
  for (let i = 0; i < 6; i++) await bucket.take();
  // 2 at once, then 4 more at 250 ms each.
  expect(clock.now() - start).toBe(1_000);
  expect(() => new TokenBucket({ perSecond: 0, burst: 1 }, clock)).toThrow("perSecond must be > 0");
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
