import { afterAll, beforeAll, expect, test } from "bun:test";
import { startEmulator, type Emulator } from "./server.ts";
import { authorization } from "./sign.ts";
import { errorCode, FAST, sdk } from "./sdk-kit.ts";

let emu: Emulator;
let clockMs = Date.now();
beforeAll(async () => {
  emu = await startEmulator({
    config: { seed: 7, settings: { ...FAST, tempCredentialTtlSec: 100 } },
    now: () => clockMs,
    log: () => {},
  });
});
afterAll(() => emu.stop());

const instanceId = () => emu.inventory().instances[0]!.instanceId;

test("the real SDK's TC3 signature is accepted", async () => {
  const r = await sdk(emu).DescribeNetworkInterfaceLimit({ InstanceId: instanceId() });
  expect(r.EniQuantity).toBe(4);
  expect(r.RequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test("a wrong SecretKey gives AuthFailure.SignatureFailure, an unknown SecretId AuthFailure.SecretIdNotFound", async () => {
  const { secretId } = emu.credentials;
  expect(await errorCode(sdk(emu, { secretId, secretKey: "wrong" }).DescribeSubnets({}))).toBe(
    "AuthFailure.SignatureFailure",
  );
  expect(await errorCode(sdk(emu, { secretId: "AKIDnobody", secretKey: "x" }).DescribeSubnets({}))).toBe(
    "AuthFailure.SecretIdNotFound",
  );
});

test("a timestamp more than 300 s off the server clock gives AuthFailure.SignatureExpire", async () => {
  clockMs = Date.now() + 301_000;
  try {
    expect(await errorCode(sdk(emu).DescribeSubnets({}))).toBe("AuthFailure.SignatureExpire");
  } finally {
    clockMs = Date.now();
  }
  expect((await sdk(emu).DescribeSubnets({})).TotalCount).toBe(5);
});

/** A DescribeNetworkInterfaceLimit request signed by hand: `service` and `headers` as the test says. */
function signedRequest(opts: { service?: string; headers?: Record<string, string>; body?: string } = {}) {
  const body = opts.body ?? JSON.stringify({ InstanceId: instanceId() });
  const timestamp = Math.floor(clockMs / 1000);
  const signed = {
    secretKey: emu.credentials.secretKey,
    service: opts.service ?? "vpc",
    timestamp,
    headers: opts.headers ?? { "content-type": "application/json", host: "127.0.0.1" },
    body,
  };
  const headers = {
    "content-type": "application/json",
    "x-tc-action": "DescribeNetworkInterfaceLimit",
    "x-tc-version": "2017-03-12",
    "x-tc-region": emu.region,
    "x-tc-timestamp": String(timestamp),
    authorization: authorization(emu.credentials.secretId, signed),
  };
  return { headers, body };
}

async function answer(req: { headers: Record<string, string>; body: string }) {
  const res = await fetch(emu.url, { method: "POST", ...req });
  expect(res.status).toBe(200);
  return ((await res.json()) as { Response: { Error?: { Code: string }; RequestId: unknown; EniQuantity?: number } })
    .Response;
}

test("a body changed after signing fails the signature check", async () => {
  const req = signedRequest();
  expect((await answer(req)).EniQuantity).toBe(4);
  const bad = await answer({ ...req, body: req.body.replace("ins-", "ins-x") });
  expect(bad.Error?.Code).toBe("AuthFailure.SignatureFailure");
  expect(typeof bad.RequestId).toBe("string");
});

test("a credential scope naming another service than vpc is AuthFailure.InvalidAuthorization", async () => {
  expect((await answer(signedRequest({ service: "cvm" }))).Error?.Code).toBe("AuthFailure.InvalidAuthorization");
  // The SDK names the endpoint's first label: "127" for 127.0.0.1:PORT.
  expect(await errorCode(sdk(emu, emu.credentials, { signAsEndpoint: true }).DescribeSubnets({}))).toBe(
    "AuthFailure.InvalidAuthorization",
  );
});

test("SignedHeaders must cover content-type and host (AuthFailure.InvalidAuthorization otherwise)", async () => {
  const only = (headers: Record<string, string>) => answer(signedRequest({ headers }));
  expect((await only({ host: "127.0.0.1" })).Error?.Code).toBe("AuthFailure.InvalidAuthorization");
  expect((await only({ "content-type": "application/json" })).Error?.Code).toBe("AuthFailure.InvalidAuthorization");
  const more = await only({
    "content-type": "application/json",
    host: "127.0.0.1",
    "x-tc-action": "describenetworkinterfacelimit",
  });
  expect(more.Error?.Code).toBe("AuthFailure.SignatureFailure"); // covered, but the action header's value differs
  const all = await only({
    "content-type": "application/json",
    host: "127.0.0.1",
    "x-tc-action": "DescribeNetworkInterfaceLimit",
  });
  expect(all.EniQuantity).toBe(4);
  const garbled = await answer({ ...signedRequest(), headers: { ...signedRequest().headers, authorization: "TC3 x" } });
  expect(garbled.Error?.Code).toBe("AuthFailure.InvalidAuthorization");
});

test("temporary credentials from the metadata service work with their token, not without, not after expiry", async () => {
  const base = emu.metadataUrl(instanceId());
  const role = await (await fetch(base + "cam/security-credentials/")).text();
  const creds = (await (await fetch(base + "cam/security-credentials/" + role)).json()) as {
    Code: string;
    ExpiredTime: number;
    TmpSecretId: string;
    TmpSecretKey: string;
    Token: string;
  };
  expect(creds.Code).toBe("Success");
  expect(creds.ExpiredTime).toBe(Math.floor(clockMs / 1000) + 100);
  const temp = { secretId: creds.TmpSecretId, secretKey: creds.TmpSecretKey };
  expect((await sdk(emu, { ...temp, token: creds.Token }).DescribeSubnets({})).TotalCount).toBe(5);
  expect(await errorCode(sdk(emu, temp).DescribeSubnets({}))).toBe("AuthFailure.TokenFailure");
  clockMs = Date.now() + 101_000;
  try {
    expect(await errorCode(sdk(emu, { ...temp, token: creds.Token }).DescribeSubnets({}))).toBe(
      "AuthFailure.TokenFailure",
    );
  } finally {
    clockMs = Date.now();
  }
});

test("credentials limited to some actions get AuthFailure.UnauthorizedOperation for others", async () => {
  emu.admin.addCredential({ secretId: "AKIDreadonly", secretKey: "k", actions: ["DescribeSubnets"] });
  const ro = sdk(emu, { secretId: "AKIDreadonly", secretKey: "k" });
  expect((await ro.DescribeSubnets({})).TotalCount).toBe(5);
  expect(await errorCode(ro.DescribeNetworkInterfaceLimit({ InstanceId: instanceId() }))).toBe(
    "AuthFailure.UnauthorizedOperation",
  );
});

test("a wrong region or unknown action is refused in the error envelope", async () => {
  const other = sdk(emu);
  (other as unknown as { region: string }).region = "ap-shanghai";
  expect(await errorCode(other.DescribeSubnets({}))).toBe("UnsupportedRegion");
  expect(await errorCode(sdk(emu).request("DescribeVpcs", {}))).toBe("InvalidAction");
});
