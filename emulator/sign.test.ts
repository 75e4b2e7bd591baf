import { expect, test } from "bun:test";
import { authorization, parseAuthorization, signature } from "./sign.ts";

// The published example of the API 3.0 signing document (spec/tencent-vpc-api.md).
const vector = {
  secretKey: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
  service: "cvm",
  timestamp: 1551113065,
  headers: { "content-type": "application/json; charset=utf-8", host: "cvm.tencentcloudapi.com" },
  body: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
};

test("the published TC3-HMAC-SHA256 vector gives the published signature", () => {
  expect(signature(vector)).toBe("72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
});

test("a changed body or key changes the signature", () => {
  expect(signature({ ...vector, body: vector.body.replace("1", "2") })).not.toBe(signature(vector));
  expect(signature({ ...vector, secretKey: "other" })).not.toBe(signature(vector));
});

test("the Authorization header round-trips through the parser", () => {
  const header = authorization("AKIDEXAMPLE", vector);
  expect(header).toStartWith(
    "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=",
  );
  expect(parseAuthorization(header)).toEqual({
    secretId: "AKIDEXAMPLE",
    date: "2019-02-25",
    service: "cvm",
    signedHeaders: ["content-type", "host"],
    signature: signature(vector),
  });
  expect(parseAuthorization("Bearer x")).toBeUndefined();
});
