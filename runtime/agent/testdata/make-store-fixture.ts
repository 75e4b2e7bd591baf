// Writes store-<version>.db: the node database of a real agent of this release, after a few
// pods came and one went, for the upgrade test (store-fixtures.test.ts) of every later release.
// Run once per release, as root: node_modules/.bin/bun runtime/agent/testdata/make-store-fixture.ts
import { Database } from "bun:sqlite";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EmulatedCluster, waitFor } from "../../../sandbox/emulated-cluster.ts";

const ROOT = resolve(import.meta.dir, "../../..");
const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const world = await EmulatedCluster.start({ nodes: 1, spec: { prebind: { min: 2, max: 3 } } });
try {
  const node = world.nodes[0]!;
  await node.startAgent();
  for (const name of ["a", "b", "c"]) await node.addPod(name);
  await node.delPod("b");
  await waitFor("the pool to settle", async () => (await node.view()).inflight.length === 0, 30_000);
  const view = await node.view();
  await node.stopAgent("SIGTERM");
  const db = join(node.dir, "state", "node.db");
  const copy = new Database(db);
  copy.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  copy.close();
  const out = join(import.meta.dir, `store-${version}.db`);
  copyFileSync(db, out);
  // what the test expects to find again
  writeFileSync(
    join(import.meta.dir, `store-${version}.json`),
    `${JSON.stringify(
      {
        release: version,
        pods: view.pods.map((p) => ({ key: p.key, ip: p.ip })).sort((x, y) => x.key.localeCompare(y.key)),
        enis: view.enis.map((e) => e.id).sort(),
        bound: view.extendedResource.allocatable,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
} finally {
  await world.stop();
}
