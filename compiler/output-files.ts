// Loaded policies in, the output folder's files out (in memory): refusals, objects, cdk8s,
// rendering. No file system: tests, the benchmark and `compile` share it.
import { type Diagnostic, hasErrors, type SourcedPolicy } from "../schema/index.ts";
import { WITHOUT_NODE_STATUS_POLICY } from "./admission.ts";
import { build, type BuildOptions } from "./objects.ts";
import { renderFiles } from "./render.ts";
import { synth, type Synthesized } from "./synth.ts";

export interface Generated {
  diagnostics: Diagnostic[];
  objects: Synthesized[];
  /** File name -> bytes; empty when a diagnostic refused the policies. */
  files: Map<string, string>;
}

export function generate(
  policies: readonly SourcedPolicy[],
  sources: ReadonlyMap<string, string>,
  options: BuildOptions = {},
): Generated {
  const built = build(policies, sources, options);
  if (hasErrors(built.diagnostics)) return { diagnostics: built.diagnostics, objects: [], files: new Map() };
  const objects = synth(built.resources);
  const warnings = options.nodeStatusPolicy === false ? [WITHOUT_NODE_STATUS_POLICY] : [];
  return { diagnostics: built.diagnostics, objects, files: renderFiles(objects, warnings) };
}
