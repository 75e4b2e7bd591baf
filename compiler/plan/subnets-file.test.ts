// The subnets file of `vpccni plan` and `vpccni validate --subnets`: JSON or YAML, a list or
// {subnets: [...]}, each problem named with its file, entry and field.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSubnetsFile } from "./subnets-file.ts";

const dir = mkdtempSync(join(tmpdir(), "vpccni-subnets-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const read = async (name: string, text: string) => {
  const r = await readSubnetsFile(file(name, text));
  return { ...r, errors: r.errors.map((e) => e.replace(`${dir}/`, "")) };
};
const ALLOWED = "allowed: a list of {subnetId, availableIpAddressCount, cidr, zone}";

describe("readSubnetsFile", () => {
  test("a JSON list as DescribeSubnets names the fields, or YAML under subnets:", async () => {
    const subnet = {
      subnetId: "subnet-aaaa0001",
      availableIpAddressCount: 5,
      cidr: "10.0.0.0/24",
      zone: "ap-guangzhou-3",
    };
    expect(await read("a.json", JSON.stringify([subnet]))).toEqual({ subnets: [subnet], errors: [] });
    expect(await read("b.yaml", "subnets:\n  - { subnetId: subnet-aaaa0001, availableIpAddressCount: 0 }\n")).toEqual({
      subnets: [{ subnetId: "subnet-aaaa0001", availableIpAddressCount: 0 }],
      errors: [],
    });
  });

  test("each field of each entry is checked and named", async () => {
    const bad = "- { subnetId: subnet-x, availableIpAddressCount: -1, zone: Guangzhou }\n";
    expect((await read("c.yaml", bad)).errors).toEqual([
      `c.yaml: 0.subnetId: Invalid string: must match pattern /^subnet-[a-z0-9]{8}$/; ${ALLOWED}`,
      `c.yaml: 0.availableIpAddressCount: Too small: expected number to be >=0; ${ALLOWED}`,
      `c.yaml: 0.zone: a zone such as ap-guangzhou-3; ${ALLOWED}`,
    ]);
    expect((await read("g.yaml", "42\n")).errors).toEqual([`g.yaml: (document): Invalid input; ${ALLOWED}`]);
    const zones = ["ap-guangzhou-3", "na-siliconvalley-1", "ap-hongkong-12", "eu-frankfurt-1"];
    for (const zone of zones) {
      const text = `- { subnetId: subnet-aaaa0001, availableIpAddressCount: 1, zone: ${zone} }\n`;
      expect((await read("z.yaml", text)).errors).toEqual([]);
    }
    for (const zone of ["ap-guangzhou", "x-guangzhou-3", "ap-guangzhou-3a", "Xap-guangzhou-3"]) {
      const text = `- { subnetId: subnet-aaaa0001, availableIpAddressCount: 1, zone: ${zone} }\n`;
      expect((await read("z.yaml", text)).errors).toEqual([
        `z.yaml: 0.zone: a zone such as ap-guangzhou-3; ${ALLOWED}`,
      ]);
    }
  });

  test("a subnet listed twice, or zones on some subnets only, are refused", async () => {
    const entry = (id: string, zone?: string) =>
      `- { subnetId: ${id}, availableIpAddressCount: 1${zone ? `, zone: ${zone}` : ""} }\n`;
    const twice = entry("subnet-aaaa0001", "ap-guangzhou-3").repeat(2);
    expect((await read("d.yaml", twice + entry("subnet-aaaa0002") + entry("subnet-aaaa0003"))).errors).toEqual([
      "d.yaml: subnet-aaaa0001 is listed twice; allowed: each subnet once",
      "d.yaml: subnet-aaaa0002, subnet-aaaa0003 have no zone, others have one; allowed: a zone on every subnet or on none",
    ]);
    expect(
      (await read("e.yaml", entry("subnet-aaaa0001", "ap-guangzhou-3") + entry("subnet-aaaa0002"))).errors,
    ).toEqual(["e.yaml: subnet-aaaa0002 has no zone, others have one; allowed: a zone on every subnet or on none"]);
    expect((await read("n.yaml", entry("subnet-aaaa0001") + entry("subnet-aaaa0002"))).errors).toEqual([]);
  });

  test("a file that cannot be read or parsed: one line naming it", async () => {
    expect((await read("f.yaml", "key: [unclosed\nx: 1\n")).errors).toEqual([
      "f.yaml: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:",
    ]);
    const missing = join(dir, "missing.yaml");
    expect((await readSubnetsFile(missing)).errors).toEqual([
      `${missing}: ENOENT: no such file or directory, open '${missing}'`,
    ]);
  });
});
