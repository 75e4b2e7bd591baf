// The subnets file of `vpccni plan` and `vpccni validate`: a JSON or YAML list of {subnetId,
// availableIpAddressCount, cidr, zone}, e.g. saved from DescribeSubnets (the same names, lower
// camel case). Zones are optional, but on every subnet or on none: a plan by zone needs them all.
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { z } from "zod";
import type { SubnetFigures } from "./capacity.ts";

const Subnet = z.object({
  subnetId: z.string().regex(/^subnet-[a-z0-9]{8}$/),
  availableIpAddressCount: z.int().min(0),
  cidr: z.string().optional(),
  zone: z
    .string()
    .regex(/^[a-z]{2,4}-[a-z]+(-[a-z0-9]+)?-\d+$/, { error: "a zone such as ap-guangzhou-3" })
    .optional(),
});
const SubnetsFile = z.union([z.array(Subnet), z.object({ subnets: z.array(Subnet) }).transform((o) => o.subnets)]);

/** The subnets, or one message per problem (file, entry and field named). */
export async function readSubnetsFile(path: string): Promise<{ subnets?: SubnetFigures[]; errors: string[] }> {
  let raw: unknown;
  try {
    raw = parse(await readFile(path, "utf8"));
  } catch (error) {
    return { errors: [`${path}: ${(error as Error).message.split("\n")[0]}`] };
  }
  const result = SubnetsFile.safeParse(raw);
  if (!result.success) {
    const errors = result.error.issues.map(
      (i) =>
        `${path}: ${i.path.length ? i.path.join(".") : "(document)"}: ${i.message}; allowed: a list of {subnetId, availableIpAddressCount, cidr, zone}`,
    );
    return { errors: [...new Set(errors)] };
  }
  const seen = new Set<string>();
  const errors = result.data
    .filter((s) => (seen.has(s.subnetId) ? true : (seen.add(s.subnetId), false)))
    .map((s) => `${path}: ${s.subnetId} is listed twice; allowed: each subnet once`);
  const zoned = result.data.filter((s) => s.zone !== undefined);
  if (zoned.length > 0 && zoned.length < result.data.length) {
    const bare = result.data.filter((s) => s.zone === undefined).map((s) => s.subnetId);
    errors.push(
      `${path}: ${bare.join(", ")} ha${bare.length > 1 ? "ve" : "s"} no zone, others have one; allowed: a zone on every subnet or on none`,
    );
  }
  return errors.length ? { errors } : { subnets: result.data, errors: [] };
}
