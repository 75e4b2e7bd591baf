import { describe, expect, test } from "bun:test";
import { crossCheck, overlap } from "./cross.ts";
import { findInlineCredentials, redacted } from "./credentials.ts";
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
  test("distance: inserts from nothing, deletes to nothing, swaps of adjacent letters only, never an edited swap", () => {
    expect([distance("", "abc"), distance("abc", ""), distance("", "")]).toEqual([3, 3, 0]);
    expect(distance("abcd", "badc")).toBe(2); // two swaps
    expect(distance("abcab", "bacba")).toBe(2);
    expect(distance("ca", "abc")).toBe(3); // optimal string alignment: a swapped pair is not edited again
    expect(distance("abc", "bca")).toBe(2);
  });
  test("closest: ties go to the first candidate; a distance of exactly the limit still counts", () => {
    expect(closest("abc", ["abd", "abe"])).toBe("abd");
    expect(closest("ABX", ["abd"])).toBe("abd"); // case does not count
    expect(closest("abcdxy", ["abcdef"])).toBe("abcdef"); // 2 edits, limit max(2, 6 / 3)
    expect(closest("abcxyz", ["abcdef"])).toBeUndefined(); // 3 edits
    expect(closest("abcdefghixyz", ["abcdefghijkl"])).toBe("abcdefghijkl"); // 3 edits, limit 12 / 3 = 4
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
  test("the same value on a shared key is no difference", () => {
    expect(overlap({ pool: "a", zone: "z" }, { pool: "a" })).toEqual({ pool: "a", zone: "z" });
  });
});

describe("checks across policies", () => {
  const sourced = (name: string, nodeSelector: Record<string, string>, line: number, clusterId = "cls-demo0001") =>
    ({
      policy: { metadata: { name }, spec: { clusterId, nodeSelector } },
      file: "p.yaml",
      nameAt: { file: "p.yaml", line, col: 9, length: name.length },
      selectorAt: { file: "p.yaml", line: line + 5, col: 3, length: 12 },
    }) as unknown as Parameters<typeof crossCheck>[0][number];
  test("a name used twice is refused at the second; selectors that can meet on a node, at the later policy's", () => {
    const found = crossCheck([
      sourced("a", { zone: "z1", pool: "x" }, 1),
      sourced("a", {}, 20),
      sourced("b", { pool: "x" }, 40),
      sourced("c", {}, 60, "cls-other001"),
    ]);
    expect(found.map((d) => `${d.line}:${d.col} ${d.code} ${d.path.join(".")} ${d.found ?? ""}: ${d.message}`)).toEqual(
      [
        '20:9 duplicate-name metadata.name "a": metadata.name "a" is already used at p.yaml:1:9; allowed: a name no other policy has',
        '45:3 overlapping-node-selector spec.nodeSelector : spec.nodeSelector of "b" and of "a" (p.yaml:1:9) can select the same node (a node labelled pool=x, zone=z1); allowed: selectors that give a shared label key different values',
        '45:3 overlapping-node-selector spec.nodeSelector : spec.nodeSelector of "b" and of "a" (p.yaml:20:9) can select the same node (a node labelled pool=x); allowed: selectors that give a shared label key different values',
      ],
    );
    const every = crossCheck([sourced("a", {}, 1), sourced("b", {}, 20)]);
    expect(every[0]?.message).toContain("can select the same node (both select every node)");
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
  test("the key names that hold a credential, in any case and with - or _ or nothing between words", () => {
    const keys = [
      "secretId",
      "secret_key",
      "SECRET-KEY",
      "tmpSecretId",
      "accessKey",
      "access_key_id",
      "AccessKeySecret",
      "token",
      "sessionToken",
      "session-token",
      "password",
      "passwd",
      "private_key",
      "privateKey",
      "credential",
      "credentials",
    ];
    for (const key of keys)
      expect({ key, found: findInlineCredentials({ [key]: 1 }) }).toEqual({
        key,
        found: [{ path: [key], atKey: true }],
      });
    const not = [
      "secret",
      "secretName",
      "mysecretId",
      "secretIds",
      "tokenFile",
      "accesskeys",
      "credentialsSecretRef",
      "tmp",
    ];
    for (const key of not) expect({ key, found: findInlineCredentials({ [key]: 1 }) }).toEqual({ key, found: [] });
  });
  test("a redacted value says only how long it was", () => {
    expect(redacted("abc")).toBe("<redacted, 3 characters>");
    expect(redacted(12345)).toBe("<redacted>");
    expect(findInlineCredentials(null)).toEqual([]);
    expect(findInlineCredentials({ a: null, b: [null, { c: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE" }] })).toEqual([
      { path: ["b", 1, "c"], atKey: false },
    ]);
  });
  test("ordinary fields are not credentials", () => {
    expect(
      findInlineCredentials({ credentialsSecretRef: { name: "tencentcloud" }, endpoint: "vpc.tencentcloudapi.com" }),
    ).toEqual([]);
  });
});
