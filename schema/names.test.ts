import { describe, expect, test } from "bun:test";
import { NETWORKS_ANNOTATION, optsIntoVpcCni } from "./names.ts";

describe("optsIntoVpcCni", () => {
  test("names tke-route-eni in any form multus reads, and nothing else", () => {
    const yes = ["tke-route-eni", " tke-route-eni ", "a,tke-route-eni", "ns/tke-route-eni", "tke-route-eni@eth1"];
    const no = ["", "tke-bridge", "tke-route-eni-x", "my-tke-route-eni", "[{", '[{"name":"other"}]', "null"];
    for (const v of yes) expect({ v, in: optsIntoVpcCni({ [NETWORKS_ANNOTATION]: v }) }).toEqual({ v, in: true });
    for (const v of no) expect({ v, in: optsIntoVpcCni({ [NETWORKS_ANNOTATION]: v }) }).toEqual({ v, in: false });
    expect(optsIntoVpcCni({ [NETWORKS_ANNOTATION]: '[{"name":"tke-route-eni","namespace":"kube-system"}]' })).toBe(
      true,
    );
    expect(optsIntoVpcCni({})).toBe(false);
    expect(optsIntoVpcCni(undefined)).toBe(false);
  });
});
