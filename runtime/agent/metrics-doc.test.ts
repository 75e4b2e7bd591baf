// docs/metrics.md and docs/troubleshooting.md cannot drift from the code: the metrics table is
// the registry row by row, and every metric, Event reason, log message, cloud code and alert the
// troubleshooting guide names exists in the source.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AgentMetrics } from "./metrics.ts";

const ROOT = join(import.meta.dir, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const METRICS_DOC = read("docs/metrics.md");
const TROUBLE_DOC = read("docs/troubleshooting.md");

/** Product source (no tests, no kits) under the given folders. */
function source(...dirs: string[]): string {
  const texts: string[] = [];
  for (const dir of dirs)
    for (const file of new Bun.Glob("**/*.ts").scanSync(join(ROOT, dir)))
      if (!file.endsWith(".test.ts") && !file.endsWith("-kit.ts")) texts.push(read(join(dir, file)));
  return texts.join("\n");
}

interface Row {
  name: string;
  type: string;
  labels: string[];
  help: string;
}

function registryRows(): Row[] {
  return new AgentMetrics().registry.getMetricsAsArray().map((m) => {
    const metric = m as unknown as { name: string; help: string; labelNames: string[]; type?: string };
    return { name: metric.name, type: "", labels: [...metric.labelNames], help: metric.help };
  });
}

async function registryTypes(): Promise<Map<string, string>> {
  const json = await new AgentMetrics().registry.getMetricsAsJSON();
  return new Map(json.map((m) => [m.name, String(m.type)]));
}

function docRows(): Row[] {
  return METRICS_DOC.split("\n")
    .filter((l) => l.startsWith("| `vpccni_"))
    .map((l) => {
      const [name = "", type = "", labels = "", help = ""] = l
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim());
      const names = labels === "" ? [] : labels.split(",").map((x) => x.trim().replaceAll("`", ""));
      return { name: name.replaceAll("`", ""), type, labels: names, help };
    });
}

/** Event reasons the agent records: KubeSync.event calls and the cloud-error map. */
function agentEventReasons(): Set<string> {
  const text = source("runtime/agent");
  const reasons = new Set<string>();
  for (const m of text.matchAll(/event\("(?:Warning|Normal)", "([A-Za-z]+)"/g)) reasons.add(m[1]!);
  const map = /const reasons: Record<string, string> = \{([^}]*)\}/.exec(read("runtime/agent/kube-sync.ts"));
  for (const m of (map?.[1] ?? "").matchAll(/: "([A-Za-z]+)"/g)) reasons.add(m[1]!);
  // reasons recorded before KubeSync exists (start-up), declared as constants
  for (const m of read("runtime/agent/credentials-wait.ts").matchAll(/export const [A-Z_]+ = "([A-Za-z]+)";/g))
    reasons.add(m[1]!);
  return reasons;
}

describe("docs/metrics.md", () => {
  test("the table lists every registered metric with its type, labels and help, in registry order", async () => {
    const types = await registryTypes();
    const expected = registryRows().map((r) => ({ ...r, type: types.get(r.name)! }));
    expect(docRows()).toEqual(expected);
  });
});

describe("names the docs cite exist in the code", () => {
  const registered = new Set(registryRows().map((r) => r.name));

  test("every vpccni_* metric in metrics.md and troubleshooting.md is registered", () => {
    const cited = [...`${METRICS_DOC}\n${TROUBLE_DOC}`.matchAll(/\bvpccni_[a-z_]+/g)].map((m) => m[0]);
    expect(cited.length).toBeGreaterThan(10);
    expect([...new Set(cited)].filter((n) => !registered.has(n))).toEqual([]);
  });

  test("every Event `Reason` is one the agent records, and every reason it records is covered", () => {
    const reasons = agentEventReasons();
    expect(reasons.size).toBeGreaterThanOrEqual(7);
    const cited = new Set([...TROUBLE_DOC.matchAll(/Event\s+`([A-Za-z]+)`/g)].map((m) => m[1]!));
    expect([...cited].filter((r) => !reasons.has(r))).toEqual([]);
    expect([...reasons].filter((r) => !cited.has(r)).sort()).toEqual([]);
  });

  test("every log message selected with jq is logged by the agent", () => {
    const code = source("runtime", "cli");
    const cited = [...TROUBLE_DOC.matchAll(/\.msg == \\?"((?:[^"\\])+)\\?"/g)].map((m) => m[1]!);
    expect(cited.length).toBeGreaterThan(5);
    expect([...new Set(cited)].filter((msg) => !code.includes(JSON.stringify(msg)))).toEqual([]);
  });

  test("every backticked CamelCase name is an agent Event, a cloud error code, an alert, a shared name or a Kubernetes term", () => {
    const reasons = agentEventReasons();
    const cloudCodes = read("runtime/cloud/errors.ts");
    const alerts = read("compiler/monitoring.ts");
    // Names shared with Kubernetes and the user: the Node condition VpccniDrained, ...
    const shared = read("schema/names.ts");
    // Not ours: what the kubelet and the scheduler report, and the pod phase they show.
    const kubernetes = new Set(["ContainerCreating", "FailedCreatePodSandBox", "FailedMount", "FailedScheduling"]);
    const cited = new Set(
      [...`${METRICS_DOC}\n${TROUBLE_DOC}`.matchAll(/`([A-Z][a-z]+(?:[A-Z][a-z]*)+)`/g)].map((m) => m[1]!),
    );
    const unknown = [...cited].filter(
      (n) =>
        !reasons.has(n) &&
        !kubernetes.has(n) &&
        !cloudCodes.includes(`"${n}`) &&
        !alerts.includes(`alert: "${n}"`) &&
        !shared.includes(`= "${n}";`),
    );
    expect(unknown).toEqual([]);
  });
});
