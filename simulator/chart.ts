// The simulator's chart: pods, bound and idle IPs over time (cluster totals), one line style per
// strategy. vega-lite describes it, vega renders SVG headless, resvg turns the SVG into PNG.
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Sample } from "./metrics.ts";

export interface ChartSeries {
  strategy: string;
  samples: readonly Sample[];
}

export function chartSpec(series: readonly ChartSeries[], title: string): TopLevelSpec {
  // Hours read better than minutes on a day-long trace.
  const last = Math.max(0, ...series.map(({ samples }) => samples.at(-1)?.t ?? 0));
  const [unit, scale] = last > 3 * 3600 ? ["hours", 3600] : ["minutes", 60];
  const values = series.flatMap(({ strategy, samples }) =>
    samples.flatMap((s) => [
      { strategy, t: s.t / scale, measure: "pods", value: s.pods },
      { strategy, t: s.t / scale, measure: "bound IPs", value: s.bound },
      { strategy, t: s.t / scale, measure: "idle IPs", value: s.idle },
    ]),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 900,
    height: 360,
    background: "white",
    data: { values },
    mark: { type: "line", interpolate: "step-after", strokeWidth: 1.5 },
    encoding: {
      x: { field: "t", type: "quantitative", title: unit },
      y: { field: "value", type: "quantitative", title: "count (all nodes)" },
      color: { field: "measure", type: "nominal", title: null, scale: { domain: ["pods", "bound IPs", "idle IPs"] } },
      strokeDash: { field: "strategy", type: "nominal", title: "strategy" },
      detail: { field: "strategy", type: "nominal" },
    },
  };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgToPng(svg: string): Uint8Array {
  // System fonts are loaded so that axis labels render; resvg draws nothing for missing glyphs.
  return new Resvg(svg, { fitTo: { mode: "width", value: 1200 }, font: { loadSystemFonts: true }, background: "white" })
    .render()
    .asPng();
}
