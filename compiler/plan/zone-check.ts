// `vpccni validate --subnets FILE --zones ...`: a policy must list a subnet in every zone its
// nodes run in, since a node's ENIs attach only in its own zone (the agent refuses pods on a
// node whose zone has none). The policy does not say where its nodes are, and validate has no
// cloud access: the user names the zones, the subnets file gives each subnet's zone. Findings
// are warnings: the policy itself is valid, it only cannot serve nodes there.
import type { Diagnostic } from "../../schema/diagnostic.ts";
import type { SourcedPolicy } from "../../schema/index.ts";
import { locateField } from "../locate.ts";
import type { SubnetFigures } from "./capacity.ts";

export function zoneDiagnostics(input: {
  policies: readonly SourcedPolicy[];
  sources: ReadonlyMap<string, string>;
  /** With a zone each (the caller checks). */
  subnets: readonly SubnetFigures[];
  /** As named on the command line, for messages. */
  subnetsFile: string;
  /** The zones the nodes of each policy run in, by policy name. */
  zones: ReadonlyMap<string, readonly string[]>;
}): Diagnostic[] {
  const zoneOf = new Map(input.subnets.map((s) => [s.subnetId, s.zone ?? ""]));
  const out: Diagnostic[] = [];
  for (const p of input.policies) {
    const name = p.policy.metadata.name;
    const listed = p.policy.spec.subnets;
    const at = locateField(p, input.sources, ["spec", "subnets"]);
    listed.forEach((id, i) => {
      if (zoneOf.has(id)) return;
      out.push({
        ...at,
        code: "subnet-zone-unknown",
        severity: "warning",
        path: ["spec", "subnets", i],
        message: `spec.subnets[${i}] ${id} is not in ${input.subnetsFile}, so its zone is unknown; allowed: every subnet of spec.subnets listed there`,
        found: JSON.stringify(id),
      });
    });
    const known = listed.filter((id) => zoneOf.has(id)).map((id) => `${id} in ${zoneOf.get(id)}`);
    for (const zone of input.zones.get(name) ?? []) {
      if (listed.some((id) => zoneOf.get(id) === zone)) continue;
      out.push({
        ...at,
        code: "no-subnet-in-zone",
        severity: "warning",
        path: ["spec", "subnets"],
        message: `no subnet of spec.subnets is in zone ${zone} (${known.join(", ") || "no zone known"}); nodes of policy ${name} there get no pod IP, since an ENI attaches only to an instance of its own zone; allowed: a subnet of every zone the policy's nodes run in`,
        found: known.join(", "),
        allowed: `a subnet of ${zone}`,
      });
    }
  }
  return out;
}
