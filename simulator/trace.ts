// Pod churn traces: JSON lines. An optional first line is a header describing the nodes and
// subnets; every other line is one event. Format documented in examples/traces/README.md.
import { z } from "zod";

export const TRACE_VERSION = "vpccni-trace/1";

const Header = z.strictObject({
  trace: z.literal(TRACE_VERSION),
  /** Instance quota of every node in the trace (secondary ENIs for pods, IPs per ENI, IPs per call). */
  node: z
    .strictObject({
      enis: z.int().min(1).max(64).default(3),
      ipsPerEni: z.int().min(1).max(255).default(10),
      ipsPerCall: z.int().min(1).max(100).default(10),
    })
    .default({ enis: 3, ipsPerEni: 10, ipsPerCall: 10 }),
  /** Free IPs in each of the policy's subnets at the start. */
  subnetFree: z.int().min(0).default(4000),
  description: z.string().optional(),
});

const Event = z.strictObject({
  t: z.number().min(0),
  node: z.string().min(1),
  pod: z.string().min(1),
  event: z.enum(["add", "delete"]),
});

export type TraceHeader = z.output<typeof Header>;
export type TraceEvent = { t: number; node: string; pod: string; event: "add" | "delete" };

export interface Trace {
  header: TraceHeader;
  /** In file order, which is time order; `t` in milliseconds. */
  events: TraceEvent[];
  nodes: string[];
}

/** Parses a trace; errors name the line, the field and what is allowed. */
export function parseTrace(text: string, name = "trace"): Trace {
  const lines = text.split("\n");
  let header: TraceHeader = Header.parse({ trace: TRACE_VERSION });
  const events: TraceEvent[] = [];
  const alive = new Map<string, boolean>();
  let last = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${name}:${i + 1}: not JSON; allowed: one JSON object per line`);
    }
    if (typeof value === "object" && value !== null && "trace" in value) {
      if (events.length > 0)
        throw new Error(`${name}:${i + 1}: a header after events; allowed: the header on the first line only`);
      header = check(Header, value, name, i);
      return;
    }
    const e = check(Event, value, name, i);
    if (e.t < last)
      throw new Error(`${name}:${i + 1}: t ${e.t} is before the previous event's ${last}; allowed: t never decreasing`);
    last = e.t;
    const key = `${e.node}/${e.pod}`;
    if (e.event === "add" && alive.get(key))
      throw new Error(`${name}:${i + 1}: pod ${e.pod} on ${e.node} is added twice; allowed: delete it first`);
    if (e.event === "delete" && !alive.get(key))
      throw new Error(`${name}:${i + 1}: pod ${e.pod} on ${e.node} is deleted but not alive; allowed: add it first`);
    alive.set(key, e.event === "add");
    events.push({ ...e, t: Math.round(e.t * 1000) });
  });
  return { header, events, nodes: [...new Set(events.map((e) => e.node))].sort() };
}

function check<T extends z.ZodType>(schema: T, value: unknown, name: string, i: number): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join(".") || "(line)";
  throw new Error(`${name}:${i + 1}: ${field}: ${issue?.message ?? "invalid"} (found ${JSON.stringify(value)})`);
}
