// Random operation sequences through the adapter against the emulator (with injected errors):
// whatever the order, the adapter's answers agree with the cloud and the cloud's books balance.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { CloudError } from "./errors.ts";
import { FAR_SUBNET, INSTANCE, POD_SUBNET, SG, testConfig, startEmulatedVpc, TINY_SUBNET } from "./emulated-vpc-kit.ts";

type Op =
  | { op: "create"; subnet: string; ips: number }
  | { op: "attach" | "detach" | "delete"; i: number }
  | { op: "assign"; i: number; n: number }
  | { op: "unassign"; i: number; k: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("create" as const),
    subnet: fc.constantFrom(POD_SUBNET, TINY_SUBNET, FAR_SUBNET),
    ips: fc.integer({ min: 0, max: 12 }),
  }),
  fc.record({ op: fc.constantFrom("attach" as const, "detach" as const, "delete" as const), i: fc.nat(5) }),
  fc.record({ op: fc.constant("assign" as const), i: fc.nat(5), n: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant("unassign" as const), i: fc.nat(5), k: fc.integer({ min: 1, max: 4 }) }),
);

/** Refusals the cloud is entitled to for a random sequence, and failed tasks; anything else is a bug. */
const EXPECTED = new Set(["eni-quota", "ip-quota", "subnet-exhausted", "invalid-state", "zone-mismatch"]);
const expected = (e: unknown) =>
  e instanceof CloudError && (EXPECTED.has(e.kind) || e.code === "FailedOperation.TaskFailed");

test("random sequences with failing tasks: no IP on two ENIs, subnet counts balance, quotas hold, the adapter's view matches", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 4, maxLength: 16 }),
      fc.integer({ min: 1, max: 1000 }),
      async (ops, seed) => {
        const w = await startEmulatedVpc({
          config: testConfig({
            seed,
            faults: {
              "*": { errorRate: 0.1, errorPhase: "either", taskFailRate: 0.1 },
              DescribeNetworkInterfaces: { errorRate: 0.1, staleMs: 1_500 },
            },
          }),
          api: { retry: { attempts: 12 } },
        });
        try {
          const enis: string[] = [];
          const ips = new Map<string, Set<string>>();
          const attached = new Set<string>();
          for (const o of ops) {
            const id = "i" in o ? enis[o.i % Math.max(1, enis.length)] : undefined;
            try {
              if (o.op === "create") {
                const e = await w.api.createEni({ subnetId: o.subnet, securityGroupIds: [SG], secondaryIps: o.ips });
                enis.push(e.id);
                ips.set(e.id, new Set(e.secondaryIps));
              } else if (id === undefined) {
                continue;
              } else if (o.op === "attach") {
                await w.api.attachEni(id, INSTANCE);
                attached.add(id);
              } else if (o.op === "detach") {
                await w.api.detachEni(id, INSTANCE);
                attached.delete(id);
              } else if (o.op === "delete") {
                await w.api.deleteEni(id);
                ips.delete(id);
                enis.splice(enis.indexOf(id), 1);
              } else if (o.op === "assign")
                for (const ip of await w.api.assignIps(id, { count: o.n })) ips.get(id)!.add(ip);
              else if (o.op === "unassign") {
                const some = [...ips.get(id)!].slice(0, o.k);
                await w.api.unassignIps(id, some);
                for (const ip of some) ips.get(id)!.delete(ip);
              }
            } catch (e) {
              if (!expected(e)) throw e;
            }
          }
          w.emu.admin.setFaults({});
          const state = await w.emu.admin.state();
          const owner = new Map<string, string>();
          for (const eni of Object.values(state.enis)) {
            for (const ip of eni.ips) {
              expect(owner.get(ip.ip)).toBeUndefined();
              owner.set(ip.ip, eni.eniId);
            }
          }
          for (const s of await w.api.describeSubnets([POD_SUBNET, TINY_SUBNET, FAR_SUBNET])) {
            const held = Object.values(state.enis)
              .filter((e) => e.subnetId === s.id)
              .reduce((n, e) => n + e.ips.length, 0);
            expect(s.availableIps + held).toBe(s.totalIps);
          }
          const onInstance = Object.values(state.enis).filter((e) => e.attachment?.instanceId === INSTANCE);
          expect(onInstance.length).toBeLessThanOrEqual(4);
          for (const e of onInstance) expect(e.ips.length).toBeLessThanOrEqual(20);
          const mine = await w.api.findEnis({ tags: { "vpccni.io/cluster": "cls-test0001" } });
          expect(mine.map((e) => e.id).sort()).toEqual([...enis].sort());
          for (const e of mine) {
            expect(new Set(e.secondaryIps)).toEqual(ips.get(e.id)!);
            expect([e.id, e.attachment?.instanceId]).toEqual([e.id, attached.has(e.id) ? INSTANCE : undefined]);
          }
        } finally {
          await w.stop();
        }
      },
    ),
    { numRuns: 40, seed: 20261128 },
  );
}, 40_000);

type EniOp = { op: "assign"; n: number } | { op: "unassign"; k: number } | { op: "attach" | "detach" };
const eniOpArb: fc.Arbitrary<EniOp> = fc.oneof(
  fc.record({ op: fc.constant("assign" as const), n: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant("unassign" as const), k: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constantFrom("attach" as const, "detach" as const) }),
);

test("concurrent sequences on three ENIs keep every ENI's IPs and attachment as the adapter reported", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(eniOpArb, { maxLength: 8 }), { minLength: 3, maxLength: 3 }),
      fc.integer({ min: 1, max: 1000 }),
      async (plans, seed) => {
        const w = await startEmulatedVpc({
          config: testConfig({
            seed,
            faults: {
              "*": { errorRate: 0.1, taskFailRate: 0.05 },
              DescribeNetworkInterfaces: { errorRate: 0.1, staleMs: 500 },
            },
          }),
          api: { retry: { attempts: 15 } },
        });
        try {
          const models = await Promise.all(
            plans.map(async (plan) => {
              let eni;
              for (;;) {
                try {
                  eni = await w.api.createEni({ subnetId: POD_SUBNET, securityGroupIds: [SG], secondaryIps: 1 });
                  break;
                } catch (e) {
                  if (!expected(e)) throw e;
                }
              }
              const model = { id: eni.id, ips: new Set(eni.secondaryIps), attached: false };
              for (const o of plan) {
                try {
                  if (o.op === "assign")
                    for (const ip of await w.api.assignIps(eni.id, { count: o.n })) model.ips.add(ip);
                  else if (o.op === "unassign")
                    for (const ip of await w.api.unassignIps(eni.id, [...model.ips].slice(0, o.k)))
                      model.ips.delete(ip);
                  else if (o.op === "attach") {
                    await w.api.attachEni(eni.id, INSTANCE);
                    model.attached = true;
                  } else {
                    await w.api.detachEni(eni.id, INSTANCE);
                    model.attached = false;
                  }
                } catch (e) {
                  if (!expected(e)) throw e;
                }
              }
              return model;
            }),
          );
          w.emu.admin.setFaults({});
          for (const m of models) {
            const e = (await w.api.getEni(m.id))!;
            expect(new Set(e.secondaryIps)).toEqual(m.ips);
            expect([m.id, e.attachment?.instanceId]).toEqual([m.id, m.attached ? INSTANCE : undefined]);
          }
          const s = (await w.api.describeSubnets([POD_SUBNET]))[0]!;
          expect(s.totalIps - s.availableIps).toBe(models.reduce((n, m) => n + 1 + m.ips.size, 0));
        } finally {
          await w.stop();
        }
      },
    ),
    { numRuns: 15, seed: 4242 },
  );
}, 40_000);
