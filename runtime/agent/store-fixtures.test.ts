// Upgrades keep the node's state: the database of every earlier release's agent, kept in
// testdata/ (make-store-fixture.ts writes one per release), opens with this agent's store and
// gives back the same pods, IPs and ENIs. A change of STORE_VERSION or of the pool state's
// version must migrate these files, not drop them.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeStore, STORE_VERSION } from "./store.ts";

const DIR = join(import.meta.dir, "testdata");
const fixtures = readdirSync(DIR).filter((f) => /^store-.+\.db$/.test(f));

describe("databases of earlier releases", () => {
  const scratch = mkdtempSync(join(tmpdir(), "vpccni-store-fixtures-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test("there is one for the release before this one, at least 0.1.0", () => {
    expect(fixtures).toContain("store-0.1.0.db");
  });

  for (const file of fixtures) {
    test(`${file} opens, migrates to version ${STORE_VERSION} and keeps its pods, IPs and ENIs`, () => {
      const expected = JSON.parse(readFileSync(join(DIR, file.replace(/\.db$/, ".json")), "utf8")) as {
        pods: { key: string; ip: string }[];
        enis: string[];
        bound: number;
      };
      // a copy: migrating writes to the file
      const copy = join(scratch, file);
      copyFileSync(join(DIR, file), copy);
      const store = new NodeStore(copy);
      try {
        expect(store.version()).toBe(STORE_VERSION);
        const pool = store.loadPool();
        expect(pool).not.toBeNull();
        const pods = Object.entries(pool!.pods)
          .map(([key, p]) => ({ key, ip: p.ip }))
          .sort((x, y) => x.key.localeCompare(y.key));
        expect(pods).toEqual(expected.pods);
        expect(
          pool!.enis
            .filter((e) => !e.primary)
            .map((e) => e.id)
            .sort(),
        ).toEqual(expected.enis);
        const bound = pool!.enis.filter((e) => !e.primary).reduce((n, e) => n + e.ips.length, 0);
        expect(bound).toBe(expected.bound);
        expect(
          store
            .attachments()
            .map((a) => a.key)
            .sort(),
        ).toEqual(expected.pods.map((p) => p.key));
        // fixed IP mode's table is new and empty on a shared-mode node
        expect(store.fixedAttachments()).toEqual([]);
        // nothing was left half-done by the agent that wrote it (it stopped gracefully)
        expect(store.openIntents()).toEqual([]);
      } finally {
        store.close();
      }
    });
  }
});
