// The simulator on every shipped trace: report invariants, determinism, chart files.
import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VpcCniPolicy } from "../schema/policy.ts";
import { parseLatencyProfile } from "./cloud-model.ts";
import { lowerBound } from "./lower-bound.ts";
import { percentile } from "./report.ts";
import { runSession } from "./session.ts";
import { parseTrace } from "./trace.ts";
import { makeTempDir } from "../sandbox/janitor.ts";

const spec = VpcCniPolicy.parse({
  apiVersion: "vpccni.io/v1alpha1",
  kind: "VpcCniPolicy",
  metadata: { name: "sim" },
  spec: {
    clusterId: "cls-sim",
    region: "ap-guangzhou",
    vpcId: "vpc-sim00001",
    subnets: ["subnet-aaaaaaaa", "subnet-bbbbbbbb"],
  },
}).spec;
/** A day-long trace replays in about a second; the margin is for loaded CI machines. */
const SIM_TIMEOUT_MS = 60_000;
const traceFile = (name: string) => join(import.meta.dir, "../examples/traces", `${name}.jsonl`);

describe("vpccni simulate on the shipped traces", () => {
  for (const name of ["steady", "burst", "diurnal"]) {
    test(
      `${name}: report invariants hold and the chart is written as SVG and PNG`,
      async () => {
        const text = await readFile(traceFile(name), "utf8");
        const trace = parseTrace(text, name);
        const outDir = makeTempDir(`sim-${name}`);
        const { output } = await runSession({
          spec,
          traceText: text,
          traceName: name,
          latency: "typical",
          seed: 7,
          aws: { warmIpTarget: 5, minimumIpTarget: 0 },
          outDir,
        });
        const adds = trace.events.filter((e) => e.event === "add").length;
        for (const r of [output.reports.vpccni, output.reports.aws]) {
          if (r === undefined) throw new Error("missing report");
          expect(r.checks).toEqual({ doubleAssigned: 0, overMaxBindable: 0 });
          expect(r.apiCalls.total).toBe(Object.values(r.apiCalls.byAction).reduce((a, b) => a + b, 0));
          expect(r.apiCalls.total).toBeGreaterThanOrEqual(r.lowerBound.apiCalls);
          expect(r.pods.added).toBe(adds);
          expect(r.pods.servedAtOnce + r.pods.waited + r.pods.abandoned).toBeLessThanOrEqual(adds);
          expect(r.idleIps.peak).toBeGreaterThanOrEqual(r.idleIps.mean);
          expect(r.boundIps.peak).toBeLessThanOrEqual(r.settings.maxBindable * trace.nodes.length);
          expect(r.enis.peak).toBeLessThanOrEqual(r.settings.maxEnis * trace.nodes.length);
          expect(r.enis.created - r.enis.deleted).toBeLessThanOrEqual(r.enis.peak);
          if (r.pods.waited > 0) expect(r.pods.waitP99Ms as number).toBeGreaterThanOrEqual(r.pods.waitP50Ms as number);
        }
        const svg = await readFile(output.files.svg, "utf8");
        expect(svg.startsWith("<svg")).toBe(true);
        expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
        const png = new Uint8Array(await readFile(output.files.png));
        expect([...png.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        expect(JSON.parse(await readFile(output.files.report, "utf8"))).toEqual(JSON.parse(JSON.stringify(output)));
      },
      SIM_TIMEOUT_MS,
    );
  }

  test(
    "the same seed replays the same report",
    async () => {
      const text = await readFile(traceFile("steady"), "utf8");
      const run = async () =>
        (
          await runSession({
            spec,
            traceText: text,
            traceName: "steady",
            latency: "slow",
            seed: 42,
            outDir: makeTempDir("sim"),
          })
        ).output.reports;
      expect(await run()).toEqual(await run());
    },
    SIM_TIMEOUT_MS,
  );

  test("an unknown latency profile is refused, naming the allowed ones", async () => {
    const run = runSession({ spec, traceText: "", traceName: "x", latency: "warp", seed: 1, outDir: tmpdir() });
    await expect(run).rejects.toThrow('--latency is "warp"; allowed: fast, typical, slow');
  });
});

describe("latency profile files", () => {
  test("are read with the built-in profiles' fields; errors name the field", () => {
    const p = parseLatencyProfile(
      { bind: [0.1, 0.2], createEni: [1, 2], release: [0.1, 0.2], deleteEni: [1, 2], throttledRate: 0.2 },
      "mine",
    );
    expect(p).toEqual({
      name: "mine",
      bind: [0.1, 0.2],
      createEni: [1, 2],
      release: [0.1, 0.2],
      deleteEni: [1, 2],
      throttledRate: 0.2,
      transientRate: 0,
    });
    expect(() => parseLatencyProfile({ ...p, bind: [2, 1] }, "mine")).toThrow(
      "mine: bind ([2,1]) must be [min, max] seconds with 0 <= min <= max",
    );
    expect(() => parseLatencyProfile({ ...p, transientRate: 1.5 }, "mine")).toThrow(
      "mine: transientRate (1.5) must be a probability between 0 and 1",
    );
  });

  test(
    "a throttling cloud costs failed calls and back-off, never a double assignment",
    async () => {
      const text = await readFile(traceFile("burst"), "utf8");
      const latency = parseLatencyProfile(
        { bind: [0.5, 1], createEni: [3, 5], release: [0.5, 1], deleteEni: [2, 3], throttledRate: 0.4 },
        "throttling",
      );
      const { output } = await runSession({
        spec,
        traceText: text,
        traceName: "burst",
        latency,
        seed: 3,
        outDir: makeTempDir("sim"),
      });
      const r = output.reports.vpccni;
      expect(r?.apiCalls.failedByKind.throttled).toBeGreaterThan(0);
      expect(r?.checks).toEqual({ doubleAssigned: 0, overMaxBindable: 0 });
      expect((r?.pods.servedAtOnce ?? 0) + (r?.pods.waited ?? 0)).toBe(100); // every pod got an IP in the end
    },
    SIM_TIMEOUT_MS,
  );
});

describe("trace format", () => {
  test("errors name the line, the field and what is allowed", () => {
    expect(() => parseTrace('{"t":1,"node":"n","pod":"p","event":"boot"}', "t.jsonl")).toThrow("t.jsonl:1: event:");
    expect(() => parseTrace('{"t":1,"node":"n","pod":"p","event":"delete"}', "t.jsonl")).toThrow(
      "t.jsonl:1: pod p on n is deleted but not alive",
    );
    expect(() =>
      parseTrace('{"t":5,"node":"n","pod":"p","event":"add"}\n{"t":4,"node":"n","pod":"q","event":"add"}', "t.jsonl"),
    ).toThrow("t.jsonl:2: t 4 is before");
    expect(() => parseTrace("nope", "t.jsonl")).toThrow("t.jsonl:1: not JSON");
  });

  test("the header sets the node quota and subnet room; events are in milliseconds", () => {
    const t = parseTrace(
      '{"trace":"vpccni-trace/1","node":{"enis":2,"ipsPerEni":5},"subnetFree":9}\n{"t":1.5,"node":"n","pod":"p","event":"add"}',
    );
    expect(t.header.node).toEqual({ enis: 2, ipsPerEni: 5, ipsPerCall: 10 });
    expect(t.header.subnetFree).toBe(9);
    expect(t.events).toEqual([{ t: 1500, node: "n", pod: "p", event: "add" }]);
  });
});

describe("lower bound of API calls", () => {
  test("k ENIs (Create + Attach) and ceil(P / ipsPerCall) IP-carrying calls for the peak demand P", () => {
    const ev = (t: number, pod: string, event: "add" | "delete") => ({ t, node: "n1", pod, event });
    // 25 pods at once: P = 25, ipsPerEni 10 -> k = 3; ceil(25/10) = 3 -> 3 + max(3, 3) = 6.
    const burst = Array.from({ length: 25 }, (_, i) => ev(0, `p${i}`, "add"));
    expect(lowerBound(burst, { cooldownMs: 0, ipsPerEni: 10, ipsPerCall: 10, maxBindable: 100 }).calls).toBe(6);
    // ipsPerEni 20, 5 per call: k = 2, ceil(25/5) = 5 -> 2 + 5 = 7.
    expect(lowerBound(burst, { cooldownMs: 0, ipsPerEni: 20, ipsPerCall: 5, maxBindable: 100 }).calls).toBe(7);
    // A freed IP inside the cooldown cannot serve the next pod: P = 2, not 1.
    const churn = [ev(0, "a", "add"), ev(10, "a", "delete"), ev(20, "b", "add")];
    expect(
      lowerBound(churn, { cooldownMs: 30, ipsPerEni: 10, ipsPerCall: 10, maxBindable: 100 }).nodes[0]?.peakDemand,
    ).toBe(2);
    expect(
      lowerBound(churn, { cooldownMs: 10, ipsPerEni: 10, ipsPerCall: 10, maxBindable: 100 }).nodes[0]?.peakDemand,
    ).toBe(1);
  });

  test("percentiles are nearest-rank", () => {
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(percentile([], 0.5)).toBeNull();
  });
});
