import { describe, expect, test } from "bun:test";
import { overlap } from "./cross.ts";
import { findInlineCredentials } from "./credentials.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { closest, distance } from "./suggest.ts";

describe("durations", () => {
  test.each([
    ["30s", 30_000],
    ["2m", 120_000],
    ["1h30m", 5_400_000],
    ["0s", 0],
    ["1h0m5s", 3_605_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  test.each(["", "2", "2 m", "1m1h", "-1s", "1.5m", "2min"])("%p is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  test("format is the inverse of parse on whole seconds", () => {
    for (const s of [0, 1, 59, 60, 61, 3599, 3600, 3661, 86_400])
      expect(parseDuration(formatDuration(s * 1000))).toBe(s * 1000);
    expect(formatDuration(90_000)).toBe("1m30s");
  });
});

describe("did you mean", () => {
  test("close typos get a suggestion, unrelated words none", () => {
    expect(closest("subnet", ["subnets", "region"])).toBe("subnets");
    expect(closest("prebnid", ["prebind", "limits"])).toBe("prebind");
    expect(closest("warmTarget", ["prebind", "limits", "subnets"])).toBeUndefined();
  });
  test("a swap of two letters is one edit", () => {
    expect(distance("ab", "ba")).toBe(1);
    expect(distance("kitten", "sitting")).toBe(3);
  });
});

describe("node selector overlap", () => {
  test("selectors that differ on a shared key never select the same node", () => {
    expect(overlap({ pool: "a" }, { pool: "b" })).toBeUndefined();
  });
  test("disjoint keys can meet on one node", () => {
    expect(overlap({ pool: "a" }, { zone: "z1" })).toEqual({ pool: "a", zone: "z1" });
  });
  test("an empty selector selects every node", () => {
    expect(overlap({}, { pool: "a" })).toEqual({ pool: "a" });
  });
});

describe("inline credentials", () => {
  test("keys and SecretId-shaped values anywhere are found", () => {
    const found = findInlineCredentials({
      spec: { cloud: { SecretKey: "x" }, subnets: ["AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"] },
      password: 1,
    });
    expect(found).toEqual([
      { path: ["spec", "cloud", "SecretKey"], atKey: true },
      { path: ["spec", "subnets", 0], atKey: false },
      { path: ["password"], atKey: true },
    ]);
  });
  test("ordinary fields are not credentials", () => {
    expect(
      findInlineCredentials({ credentialsSecretRef: { name: "tencentcloud" }, endpoint: "vpc.tencentcloudapi.com" }),
    ).toEqual([]);
  });
});
