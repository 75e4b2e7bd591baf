// spec.cloud.endpoint over plain http:// only to a loopback host, or with insecureEndpoint: true.
import { describe, expect, test } from "bun:test";
import { endpointHost, endpointOverrideWarning, isInsecureEndpoint } from "./endpoint.ts";
import { loadYamlText } from "./yaml-source.ts";

const policy = (cloud: string) => `apiVersion: vpccni.io/v1alpha1
kind: VpcCniPolicy
metadata: { name: general }
spec:
  clusterId: cls-demo0001
  region: ap-guangzhou
  vpcId: vpc-demo0001
  subnets: [subnet-pods0001]
  cloud: ${cloud}
`;

describe("insecure endpoints", () => {
  test("http:// to anything but 127.0.0.0/8 and localhost is insecure; https:// and no scheme are not", () => {
    const cases: Record<string, boolean> = {
      "vpc.tencentcloudapi.com": false,
      "https://10.0.0.5:9000": false,
      "10.0.0.5:9000": false,
      "http://127.0.0.1:9000": false,
      "http://127.8.9.10": false,
      "http://localhost:9000/": false,
      "http://10.0.0.5:9000": true,
      "http://vpc.tencentcloudapi.com": true,
      "http://127.0.0.1.example.com": true,
      "http://128.0.0.1": true,
      "http://127.0.0.256": true,
    };
    expect(Object.fromEntries(Object.keys(cases).map((e) => [e, isInsecureEndpoint(e)]))).toEqual(cases);
    expect(endpointHost("http://127.0.0.1:9000/")).toBe("127.0.0.1");
  });

  test("the host: surrounding spaces, the scheme in front, one slash and a port at the end come off, nothing else", () => {
    expect(endpointHost(" https://vpc.example.com:443/ ")).toBe("vpc.example.com");
    expect(endpointHost("vpc.example.com")).toBe("vpc.example.com");
    expect(endpointHost("x.http://h")).toBe("x.http://h");
    expect(endpointHost("h/a/")).toBe("h/a");
    expect(endpointHost("h:80/x")).toBe("h:80/x");
    expect(endpointHost("h:123456")).toBe("h:123456");
    expect(isInsecureEndpoint(" http://10.0.0.5")).toBe(true);
  });

  test("an operator's --endpoint may be insecure, with a warning to log", () => {
    expect(endpointOverrideWarning(undefined)).toBeUndefined();
    expect(endpointOverrideWarning("http://127.0.0.1:9000")).toBeUndefined();
    expect(endpointOverrideWarning("https://10.8.0.2")).toBeUndefined();
    expect(endpointOverrideWarning("http://10.8.0.2:9000")).toStartWith(
      '--endpoint "http://10.8.0.2:9000" is plain http:// to a host that is not loopback',
    );
  });

  test("the policy refuses one at spec.cloud.endpoint, unless insecureEndpoint: true", () => {
    const refused = loadYamlText(policy("{ endpoint: http://10.8.0.2:9000 }"), "p.yaml");
    expect(refused.diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code} ${d.path.join(".")}`)).toEqual([
      "p.yaml:9:22 insecure-endpoint spec.cloud.endpoint",
    ]);
    for (const cloud of [
      "{ endpoint: http://10.8.0.2:9000, insecureEndpoint: true }",
      "{ endpoint: http://127.0.0.1:9000 }",
      "{ endpoint: https://10.8.0.2:9000 }",
    ]) {
      const ok = loadYamlText(policy(cloud), "p.yaml");
      expect({ cloud, diagnostics: ok.diagnostics }).toEqual({ cloud, diagnostics: [] });
    }
    // false is the same as unset
    expect(
      loadYamlText(policy("{ endpoint: http://10.8.0.2:9000, insecureEndpoint: false }"), "p.yaml").diagnostics.map(
        (d) => d.code,
      ),
    ).toEqual(["insecure-endpoint"]);
  });
});
