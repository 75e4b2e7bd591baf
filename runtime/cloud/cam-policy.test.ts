import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { camPolicy, VPC_ACTIONS } from "./cam-policy.ts";

const ROOT = join(import.meta.dir, "../..");

test("the CAM policy lists exactly the VPC actions the adapter sends", () => {
  // every action name the cloud code hands to the SDK, read from the source
  const sent = new Set<string>();
  for (const file of new Bun.Glob("runtime/**/*.ts").scanSync({ cwd: ROOT })) {
    if (file.endsWith(".test.ts") || file.endsWith("-kit.ts")) continue;
    const text = readFileSync(join(ROOT, file), "utf8");
    // send("Action", ...) and `const action = "Action"` handed to send(action, ...)
    for (const m of text.matchAll(/\bsend\(\s*"([A-Za-z]+)"/g)) sent.add(m[1]!);
    if (/\bsend\(\s*action\b/.test(text))
      for (const m of text.matchAll(/\bconst action = "([A-Za-z]+)"/g)) sent.add(m[1]!);
  }
  expect(sent.size).toBeGreaterThan(0);
  expect([...VPC_ACTIONS].sort() as string[]).toEqual([...sent].sort());
});

test("docs/deploy-tke.md shows the generated policy, byte for byte", () => {
  const doc = readFileSync(join(ROOT, "docs/deploy-tke.md"), "utf8");
  expect(doc).toContain(`\`\`\`json\n${camPolicy()}\`\`\``);
});
