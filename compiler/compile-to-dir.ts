// `vpccni compile` without the argv: load the policies, refuse what cannot be applied to the
// running cluster (compared with the previous output), generate, then write or check.
import { relative, resolve, sep } from "node:path";
import { sortDiagnostics } from "../schema/diagnostic.ts";
import { type Diagnostic, hasErrors, loadPolicies } from "../schema/index.ts";
import type { CniVersion } from "../schema/cni.ts";
import { WITHOUT_NODE_STATUS_POLICY } from "./admission.ts";
import { generate } from "./output-files.ts";
import { removals } from "./removals.ts";
import { objectFieldChanges, policyFieldChanges } from "./immutable.ts";
import { applyOutDir, diffOutDir, type OutDirDiff, readOutDir } from "./outdir.ts";

export interface CompileRequest {
  paths: readonly string[];
  outDir: string;
  cwd?: string;
  namespace?: string;
  image?: string;
  /** See BuildOptions.nodeStatusPolicy. */
  nodeStatusPolicy?: boolean;
  /** See BuildOptions.cniBinDir / cniConfDir. */
  cniBinDir?: string;
  cniConfDir?: string;
  cniVersion?: CniVersion;
  /** Write an output that drops every object, or all objects of a policy (otherwise refused). */
  allowRemove?: boolean;
  /** Compare only; write nothing. */
  check?: boolean;
}

export interface CompileOutcome {
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
  policies: number;
  /** Present when generation succeeded. */
  diff?: OutDirDiff;
}

export async function compileToDir(req: CompileRequest): Promise<CompileOutcome> {
  const cwd = req.cwd ?? process.cwd();
  const outAbs = resolve(cwd, req.outDir);
  const loaded = await loadPolicies(req.paths, cwd);
  const outcome: CompileOutcome = {
    diagnostics: loaded.diagnostics,
    sources: loaded.sources,
    policies: loaded.policies.length,
  };
  if (hasErrors(loaded.diagnostics)) return outcome;
  if (loaded.policies.length === 0) {
    outcome.diagnostics.push({
      file: req.paths[0] ?? ".",
      line: 1,
      col: 1,
      length: 1,
      code: "no-policies",
      severity: "warning",
      path: [],
      message: `no policy found in ${req.paths.join(", ")}; the output holds no objects, so Argo CD or Flux removes vpccni from the cluster`,
    });
  }
  if (req.nodeStatusPolicy === false) {
    outcome.diagnostics.push({
      file: req.paths[0] ?? ".",
      line: 1,
      col: 1,
      length: 1,
      code: "node-status-policy-off",
      severity: "warning",
      path: [],
      message: WITHOUT_NODE_STATUS_POLICY,
    });
  }
  const previous = await readOutDir(outAbs);
  const outName = relative(cwd, outAbs) || ".";
  outcome.diagnostics.push(...policyFieldChanges(loaded.policies, previous, loaded.sources, outName));
  // Headers name policy files relative to the output folder, so the bytes do not depend on cwd.
  const sourceName = (file: string) => relative(outAbs, resolve(cwd, file)).split(sep).join("/");
  const generated = generate(loaded.policies, loaded.sources, {
    namespace: req.namespace,
    image: req.image,
    nodeStatusPolicy: req.nodeStatusPolicy,
    cniBinDir: req.cniBinDir,
    cniConfDir: req.cniConfDir,
    cniVersion: req.cniVersion,
    sourceName,
  });
  outcome.diagnostics.push(...generated.diagnostics);
  if (!hasErrors(outcome.diagnostics))
    outcome.diagnostics.push(...objectFieldChanges(generated.objects, previous, loaded.policies, outName));
  sortDiagnostics(outcome.diagnostics);
  if (hasErrors(outcome.diagnostics)) return outcome;
  const diff = diffOutDir(generated.files, previous);
  outcome.diff = diff;
  outcome.diagnostics.push(...removals(previous, loaded.policies, diff, outName, req.allowRemove === true));
  for (const name of diff.foreign) {
    outcome.diagnostics.push({
      file: `${outName}/${name}`,
      line: 1,
      col: 1,
      length: 1,
      code: "foreign-file",
      severity: "error",
      path: [],
      message: `${outName}/${name} is in the way of a generated file and has no vpccni header, so it is not ours to overwrite; allowed: move it out of ${outName}`,
    });
  }
  if (!hasErrors(outcome.diagnostics) && !req.check) await applyOutDir(outAbs, generated.files, diff);
  return outcome;
}

/** True when the folder already holds exactly what the policies generate. */
export function isCurrent(diff: OutDirDiff): boolean {
  return diff.added.length + diff.changed.length + diff.stale.length + diff.foreign.length === 0;
}
