// Regenerates the shipped traces: `bun examples/traces/generate.ts`. Seeded, so the output is
// byte-stable; the files are committed so that users need not run this.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { seededRng } from "../../runtime/pool/rng.ts";

type Line = { t: number; node: string; pod: string; event: "add" | "delete" };

function write(name: string, header: object, events: Line[]): void {
  events.sort((a, b) => a.t - b.t || (a.event === b.event ? 0 : a.event === "delete" ? -1 : 1));
  const lines = [
    JSON.stringify(header),
    ...events.map((e) => JSON.stringify({ t: Math.round(e.t * 10) / 10, node: e.node, pod: e.pod, event: e.event })),
  ];
  writeFileSync(join(import.meta.dir, name), `${lines.join("\n")}\n`);
}

/** Exponential with the given mean (seconds). */
const exp = (rng: () => number, mean: number) => -Math.log(1 - rng()) * mean;

// steady: 3 nodes, ~20 pods each, every pod lives ~30 min and is replaced when it goes; 4 hours.
function steady(): void {
  const rng = seededRng(1);
  const events: Line[] = [];
  const end = 4 * 3600;
  for (let n = 1; n <= 3; n++) {
    const node = `node-${n}`;
    let id = 0;
    for (let slot = 0; slot < 20; slot++) {
      let t = rng() * 60;
      while (t < end) {
        const pod = `steady-${n}-${id++}`;
        const life = 60 + exp(rng, 1800);
        events.push({ t, node, pod, event: "add" });
        if (t + life >= end) break;
        events.push({ t: t + life, node, pod, event: "delete" });
        t += life + rng() * 5; // the replacement arrives a few seconds later
      }
    }
  }
  write(
    "steady.jsonl",
    {
      trace: "vpccni-trace/1",
      description: "3 nodes, about 20 pods each, lifetimes ~30 min, replaced as they go; 4 h",
      node: { enis: 3, ipsPerEni: 10, ipsPerCall: 10 },
      subnetFree: 4000,
    },
    events,
  );
}

// burst: 100 pods land within 10 s on a node that joined 30 s before, live 20-30 min, then go.
function burst(): void {
  const rng = seededRng(2);
  const events: Line[] = [];
  for (let i = 0; i < 100; i++) {
    const t = 30 + rng() * 10; // the node joined at 0 and turned Ready
    const pod = `burst-${i}`;
    events.push({ t, node: "node-1", pod, event: "add" });
    events.push({ t: 1200 + rng() * 600, node: "node-1", pod, event: "delete" });
  }
  write(
    "burst.jsonl",
    {
      trace: "vpccni-trace/1",
      description: "a burst of 100 pods within 10 s on a node that joined 30 s before, gone after 20-30 min",
      node: { enis: 6, ipsPerEni: 20, ipsPerCall: 10 },
      subnetFree: 4000,
    },
    events,
  );
}

// diurnal: 4 nodes over 24 h; the pods wanted per node follow a day curve between 4 and 40,
// pods live ~45 min, and a controller adds or lets pods go every minute to follow the curve.
function diurnal(): void {
  const rng = seededRng(3);
  const events: Line[] = [];
  const day = 24 * 3600;
  for (let n = 1; n <= 4; n++) {
    const node = `node-${n}`;
    const alive: { pod: string; until: number }[] = [];
    let id = 0;
    for (let t = 0; t < day; t += 60) {
      const want = Math.round(22 - 18 * Math.cos((2 * Math.PI * (t - 3 * 3600)) / day) + (rng() - 0.5) * 4);
      for (let i = alive.length - 1; i >= 0; i--) {
        const p = alive[i] as { pod: string; until: number };
        if (p.until <= t || alive.length > want) {
          events.push({ t: Math.min(p.until, t + rng() * 60), node, pod: p.pod, event: "delete" });
          alive.splice(i, 1);
        }
      }
      while (alive.length < want) {
        const pod = `d${n}-${id++}`;
        const at = t + rng() * 60;
        events.push({ t: at, node, pod, event: "add" });
        alive.push({ pod, until: at + 60 + exp(rng, 2700) });
      }
    }
  }
  write(
    "diurnal.jsonl",
    {
      trace: "vpccni-trace/1",
      description: "4 nodes over 24 h; pods per node follow a day curve between ~4 and ~40, lifetimes ~45 min",
      node: { enis: 4, ipsPerEni: 15, ipsPerCall: 10 },
      subnetFree: 4000,
    },
    events,
  );
}

steady();
burst();
diurnal();
