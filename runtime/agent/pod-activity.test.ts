import { describe, expect, test } from "bun:test";
import { hostVethName } from "../net/names.ts";
import { PodActivity } from "./pod-activity.ts";

const KEY = "vpc/c1/eth0";
const veth = hostVethName({ network: "vpc", containerId: "c1", ifname: "eth0" });

describe("PodActivity", () => {
  test("a pod in flight is left alone, with the IP it had and the one it has now", () => {
    const a = new PodActivity();
    const mark = a.mark();
    a.begin(KEY, "10.0.1.5");
    expect(a.since(mark, () => "10.0.1.6")).toEqual({ keys: [KEY], ips: ["10.0.1.5", "10.0.1.6"], veths: [veth] });
  });

  test("a change that began and ended after the mark still counts for that pass", () => {
    const a = new PodActivity();
    const mark = a.mark();
    a.begin(KEY);
    a.end(KEY, "10.0.1.5");
    expect(a.since(mark, () => undefined).ips).toEqual(["10.0.1.5"]);
  });

  test("a change over before the mark is forgotten; one still in flight is not", () => {
    const a = new PodActivity();
    a.begin(KEY, "10.0.1.5");
    a.end(KEY);
    a.begin("vpc/c2/eth0", "10.0.1.7");
    const mark = a.mark();
    expect(a.since(mark, () => undefined).keys).toEqual(["vpc/c2/eth0"]);
    a.end("vpc/c2/eth0");
    expect(a.since(a.mark(), () => undefined)).toEqual({ keys: [], ips: [], veths: [] });
  });

  test("two calls on one key overlap: in flight until both have ended", () => {
    const a = new PodActivity();
    a.begin(KEY);
    a.begin(KEY);
    a.end(KEY);
    expect(a.since(a.mark(), () => undefined).keys).toEqual([KEY]);
    a.end(KEY);
    expect(a.since(a.mark(), () => undefined).keys).toEqual([]);
  });
});
