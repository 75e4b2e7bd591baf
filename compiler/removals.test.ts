// A compile that would take vpccni's networking off nodes is refused (or only warned about with
// --allow-remove): everything gone, or a policy's DaemonSet gone.
import { describe, expect, test } from "bun:test";
import type { SourcedPolicy } from "../schema/index.ts";
import type { OutDirDiff } from "./outdir.ts";
import { previousPolicies, removals } from "./removals.ts";
import { OWNED_MARKER } from "./render.ts";

const daemonSet = (name: string) =>
  `${OWNED_MARKER} Do not edit.\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  labels:\n    app.kubernetes.io/instance: ${name}\n  name: vpccni-agent-${name}\n`;
const previous = {
  files: new Map([
    ["40-daemonset-vpccni-agent-general.yaml", daemonSet("general")],
    ["40-daemonset-vpccni-agent-batch.yaml", daemonSet("batch")],
    ["40-daemonset-vpccni-agent-zeta.yaml", daemonSet("zeta")],
    ["40-daemonset-theirs.yaml", daemonSet("theirs").replace(OWNED_MARKER, "# mine")],
    [
      "30-configmap-x.yaml",
      `${OWNED_MARKER}\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/instance: x\n`,
    ],
    ["41-daemonset-unlabelled.yaml", `${OWNED_MARKER}\nkind: DaemonSet\nmetadata:\n  name: u\n`],
    ["41-daemonset-nometa.yaml", `${OWNED_MARKER}\nkind: DaemonSet\n`],
    ["41-daemonset-broken.yaml", `${OWNED_MARKER}\nkind: DaemonSet\nmetadata: [unclosed\n`],
  ]),
};
const sourced = (name: string) => ({ policy: { metadata: { name } } }) as unknown as SourcedPolicy;
const diff = (over: Partial<OutDirDiff>): OutDirDiff => ({
  added: [],
  changed: [],
  stale: [],
  foreign: [],
  unchanged: [],
  ...over,
});
const ALLOWED =
  "allowed: --allow-remove, when taking vpccni off those nodes is intended: first commit spec.enabled: false and wait until every node of the policy shows the condition VpccniDrained=True (docs/operations.md, Switching off)";

describe("removals", () => {
  test("the policies the previous output runs a DaemonSet for: owned files of kind DaemonSet with the instance label", () => {
    expect([...previousPolicies(previous)]).toEqual([
      ["general", "40-daemonset-vpccni-agent-general.yaml"],
      ["batch", "40-daemonset-vpccni-agent-batch.yaml"],
      ["zeta", "40-daemonset-vpccni-agent-zeta.yaml"],
    ]);
  });

  test("nothing stale: nothing to say", () => {
    expect(removals(previous, [], diff({ added: ["a.yaml"] }), "deploy", false)).toEqual([]);
  });

  test("policies gone are refused one by one, in name order, at their DaemonSet; --allow-remove makes them warnings", () => {
    const stale = diff({ stale: ["x.yaml"], changed: ["a.yaml", "b.yaml"] });
    const found = removals(previous, [sourced("batch")], stale, "deploy", false);
    expect(found).toEqual(
      ["general", "zeta"].map((name) => ({
        file: `deploy/40-daemonset-vpccni-agent-${name}.yaml`,
        line: 1,
        col: 1,
        length: 1,
        path: [],
        code: "would-remove-policy",
        severity: "error",
        message: `policy "${name}" is no longer compiled: its DaemonSet (deploy/40-daemonset-vpccni-agent-${name}.yaml) and the objects with it would be removed, and its nodes would lose pod networking; ${ALLOWED}`,
      })),
    );
    expect(removals(previous, [sourced("batch")], stale, "deploy", true).map((d) => d.severity)).toEqual([
      "warning",
      "warning",
    ]);
  });

  test("everything gone: no policy at all, or an output of one file where DaemonSets were", () => {
    const all = (policies: SourcedPolicy[], d: OutDirDiff, allow = false) =>
      removals(previous, policies, d, "deploy", allow).map((x) => `${x.file} ${x.severity} ${x.code} ${x.message}`);
    const stale = ["40-daemonset-vpccni-agent-general.yaml", "z.yaml"];
    expect(all([], diff({ stale }))).toEqual([
      `deploy/40-daemonset-vpccni-agent-general.yaml error would-remove-all this compile would remove all 2 files vpccni wrote to deploy, and Argo CD or Flux would prune its networking from the cluster; ${ALLOWED}`,
    ]);
    expect(all([sourced("other")], diff({ stale, added: ["kustomization.yaml"] }), true)[0]).toStartWith(
      "deploy/40-daemonset-vpccni-agent-general.yaml warning would-remove-all",
    );
    // two files generated: not "nothing", each lost policy is named instead
    expect(
      all([sourced("other")], diff({ stale, added: ["a.yaml"], unchanged: ["b.yaml"] })).map((s) => s.split(" ")[2]),
    ).toEqual(["would-remove-policy", "would-remove-policy", "would-remove-policy"]);
    // nothing generated, but nothing of ours was there either: no DaemonSet lost
    const empty = { files: new Map<string, string>() };
    expect(removals(empty, [sourced("other")], diff({ stale: ["z.yaml"] }), "deploy", false)).toEqual([]);
  });
});
