// The dense claim table against a plain Map model: claims put, moved and dropped in a seeded
// random order, many enough that the address table (address-slots.ts) grows and its deletions
// shift runs of colliding addresses; every read must equal the model's.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { AddressesView, ClaimsView, ClaimTable, type HeldClaim } from "./claim-table.ts";
import { toAddress } from "./ipv4.ts";

const BASE = 10 * 2 ** 24; // 10.0.0.0

type Op =
  | { kind: "put"; key: number; ip: number; eni: number | null; node: number | null }
  | { kind: "drop"; key: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant("put" as const),
      key: fc.nat(3000),
      // clustered addresses (a few subnets' worth) collide in the hash table's runs
      ip: fc.oneof(fc.nat(4000), fc.integer({ min: 2 ** 16, max: 2 ** 16 + 500 })),
      eni: fc.option(fc.nat(20)),
      node: fc.option(fc.nat(20)),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant("drop" as const), key: fc.nat(3000) }), weight: 2 },
);

describe("claim table", () => {
  test("reads equal a Map model through puts, address moves and drops, across growth", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 500, maxLength: 6000 }), (ops) => {
        const t = new ClaimTable();
        const [claims, addresses] = [new ClaimsView(t), new AddressesView(t)];
        const model = new Map<string, HeldClaim>();
        for (const o of ops) {
          const key = `ns/pod-${o.key}`;
          if (o.kind === "drop") {
            const slot = t.slotOfClaim(key);
            if (slot >= 0) t.drop(slot);
            model.delete(key);
            continue;
          }
          const held: HeldClaim = {
            address: toAddress(BASE + o.ip),
            subnet: o.ip < 2 ** 16 ? "subnet-a" : "subnet-b",
            eni: o.eni === null ? null : `eni-${o.eni}`,
            reclaim: o.key % 3 === 0 ? { kind: "After", ms: o.key * 1000 } : { kind: "Never" },
            node: o.node === null ? null : `node-${o.node}`,
            expiresAt: o.node === null ? o.ip : null,
            deleted: o.key % 5 === 0,
          };
          t.put(key, held);
          // one to one: the claim that held this address gives it up
          for (const [k, c] of model) if (c.address === held.address && k !== key) model.delete(k);
          model.set(key, held);
        }
        expect(claims.size).toBe(model.size);
        expect(addresses.size).toBe(model.size);
        for (const [key, { subnet, eni, ...claim }] of model) {
          expect(claims.get(key)).toEqual(claim);
          expect(addresses.get(claim.address)).toEqual({ subnet, claim: key, eni });
        }
        // and nothing else: every address the table answers for is a model claim's
        for (let ip = 0; ip < 4000; ip += 7) {
          const a = addresses.get(toAddress(BASE + ip));
          if (a !== undefined) expect(model.get(a.claim)?.address).toBe(toAddress(BASE + ip));
        }
        expect(new Set(claims.keys())).toEqual(new Set(model.keys()));
      }),
      { seed: 20261130, numRuns: 40 },
    );
  });
});
