// cdk8s turns the objects into their final JSON (resolving tokens and dropping undefined
// fields); each gets its Argo CD sync wave on the way.
import { ApiObject, App, Chart } from "cdk8s";
import type { Manifest, Resource } from "./resource.ts";
import { fileName, stageOf, SYNC_WAVE } from "./resource.ts";

export interface Synthesized extends Resource {
  file: string;
}

export function synth(resources: readonly Resource[]): Synthesized[] {
  const app = new App();
  const chart = new Chart(app, "vpccni", { disableResourceNameHashes: true });
  const objects = resources.map((r, i) => {
    const { wave } = stageOf(r.manifest.kind);
    const metadata = {
      ...r.manifest.metadata,
      annotations: { ...r.manifest.metadata.annotations, [SYNC_WAVE]: String(wave) },
    };
    return { resource: r, object: new ApiObject(chart, `r${i}`, { ...r.manifest, metadata }) };
  });
  const out = objects.map(({ resource, object }) => {
    const manifest = object.toJson() as Manifest;
    return { ...resource, manifest, file: fileName(manifest) };
  });
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.file))
      throw new Error(`two generated objects share the file ${r.file}; object names must be unique per kind`);
    seen.add(r.file);
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
