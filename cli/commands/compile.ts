import { parseArgs } from "node:util";
import { CNI_VERSIONS, type CniVersion, DEFAULT_CNI_VERSION } from "../../schema/cni.ts";
import { renderDiagnostics, summary } from "../../schema/index.ts";
import {
  type CompileOutcome,
  compileToDir,
  DEFAULT_IMAGE,
  DEFAULT_NAMESPACE,
  isCurrent,
} from "../../compiler/index.ts";
import { OUTPUT_OPTION, outputFormat, writeJson } from "../output.ts";

export const help = `Usage: vpccni compile <file-or-folder>... --out DIR [--check]
                      [--namespace NS] [--image IMAGE]
                      [--cni-bin-dir DIR] [--cni-conf-dir DIR] [--cni-version V]
                      [--allow-remove] [--without-node-status-policy]
                      [--output text|json]

Compiles VpcCniPolicy files into Kubernetes manifests for Argo CD or Flux: one
file per object in DIR, named in apply order, and DIR/kustomization.yaml
listing them. The same policies always give the same bytes. Files the
compiler wrote before and no longer generates are removed; files without its
header are never touched.

Changes a running cluster cannot take (spec.ipMode, clusterId, vpcId or region
of an existing policy; a DaemonSet selector) are refused by comparing with the
output in DIR.

Options:
  --out DIR         output folder (required)
  --check           write nothing; exit 1 and list the files that differ
                    when DIR is stale
  --namespace NS    namespace of the agents (default ${DEFAULT_NAMESPACE})
  --image IMAGE     agent image (default ${DEFAULT_IMAGE})
  --cni-bin-dir DIR the node's CNI plugin folder, where the runtime looks
                    (default /opt/cni/bin)
  --cni-conf-dir DIR
                    the node's CNI config folder (default /etc/cni/net.d)
  --cni-version V   the conflist's cniVersion: 0.4.0, 1.0.0 or 1.1.0
                    (default ${DEFAULT_CNI_VERSION}, which containerd 1.6/1.7 and the bundled
                    portmap speak; 1.1.0 adds GC and STATUS but needs
                    containerd 2 and a portmap of CNI 1.2 or newer)
  --allow-remove    write an output that removes every object, or all objects
                    of a policy (a deleted or renamed policy): Argo CD or Flux
                    then prunes those agents
  --without-node-status-policy
                    leave out the admission policy that holds each agent to
                    its own Node's eni-ip resource: only for clusters older
                    than Kubernetes 1.30
  --output text|json
                    text (default), or one JSON document: {ok, diff: {added,
                    changed, removed, unchanged}, diagnostics}; with --check,
                    removed lists the stale files

Run --check in CI with the same options as the compile that wrote DIR.
`;

const policies = (n: number) => `${n} polic${n === 1 ? "y" : "ies"}`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      check: { type: "boolean", default: false },
      namespace: { type: "string" },
      image: { type: "string" },
      "cni-bin-dir": { type: "string" },
      "cni-conf-dir": { type: "string" },
      "cni-version": { type: "string" },
      "allow-remove": { type: "boolean", default: false },
      "without-node-status-policy": { type: "boolean", default: false },
      ...OUTPUT_OPTION,
    },
  });
  if (positionals.length === 0 || values.out === undefined) {
    process.stderr.write(`vpccni compile: name at least one policy file or folder, and --out DIR\n\n${help}`);
    return 2;
  }
  if (values.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(values.namespace)) {
    process.stderr.write(
      `vpccni compile: --namespace is ${JSON.stringify(values.namespace)}; allowed: a DNS-1123 label such as vpccni-system\n`,
    );
    return 2;
  }
  for (const flag of ["cni-bin-dir", "cni-conf-dir"] as const) {
    const dir = values[flag];
    if (dir !== undefined && !/^\/[^\0]*$/.test(dir)) {
      process.stderr.write(
        `vpccni compile: --${flag} is ${JSON.stringify(dir)}; allowed: an absolute path on the node, such as ${flag === "cni-bin-dir" ? "/opt/cni/bin" : "/etc/cni/net.d"}\n`,
      );
      return 2;
    }
  }
  const format = outputFormat(values.output);
  if (typeof format !== "string") {
    process.stderr.write(`vpccni compile: ${format.error}\n`);
    return 2;
  }
  const cniVersion = values["cni-version"];
  if (cniVersion !== undefined && !(CNI_VERSIONS as readonly string[]).includes(cniVersion)) {
    process.stderr.write(
      `vpccni compile: --cni-version is ${JSON.stringify(cniVersion)}; allowed: ${CNI_VERSIONS.join(", ")}\n`,
    );
    return 2;
  }
  const outcome = await compileToDir({
    paths: positionals,
    outDir: values.out,
    check: values.check,
    namespace: values.namespace,
    image: values.image,
    cniBinDir: values["cni-bin-dir"],
    cniConfDir: values["cni-conf-dir"],
    cniVersion: cniVersion as CniVersion | undefined,
    allowRemove: values["allow-remove"],
    nodeStatusPolicy: !values["without-node-status-policy"],
  });
  if (format === "json") return printJson(outcome, values.check);
  if (outcome.diagnostics.length > 0)
    process.stderr.write(`${renderDiagnostics(outcome.diagnostics, outcome.sources)}\n\n`);
  const diff = outcome.diff;
  if (diff === undefined || outcome.diagnostics.some((d) => d.severity === "error")) {
    process.stderr.write(`${summary(outcome.diagnostics, outcome.policies, outcome.sources.size)}; nothing written\n`);
    return 1;
  }
  const lines = [
    ...diff.added.map((f) => `  added    ${f}`),
    ...diff.changed.map((f) => `  changed  ${f}`),
    ...diff.stale.map((f) => `  ${values.check ? "stale  " : "removed"}  ${f}`),
  ];
  if (values.check) {
    if (isCurrent(diff)) {
      process.stdout.write(
        `${values.out} is current (${diff.unchanged.length} files, ${policies(outcome.policies)})\n`,
      );
      return 0;
    }
    process.stderr.write(
      `${values.out} is stale: run \`vpccni compile ${positionals.join(" ")} --out ${values.out}\` and commit\n${lines.join("\n")}\n`,
    );
    return 1;
  }
  const counts = `${diff.added.length} added, ${diff.changed.length} changed, ${diff.stale.length} removed, ${diff.unchanged.length} unchanged`;
  process.stdout.write(
    `${values.out}: ${policies(outcome.policies)} -> ${counts}\n${lines.length ? `${lines.join("\n")}\n` : ""}`,
  );
  return 0;
}

/**
 * compile --output json: the same verdict and exit code as the text, as one document. `removed`
 * is what this compile removed, or with --check what it would remove (the stale files).
 */
function printJson(outcome: CompileOutcome, check: boolean): number {
  const diff = outcome.diff;
  const failed = diff === undefined || outcome.diagnostics.some((d) => d.severity === "error");
  const ok = !failed && (!check || isCurrent(diff));
  writeJson({
    ok,
    diff: failed ? null : { added: diff.added, changed: diff.changed, removed: diff.stale, unchanged: diff.unchanged },
    diagnostics: outcome.diagnostics,
  });
  return ok ? 0 : 1;
}
