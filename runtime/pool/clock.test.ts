// The wall clock jumps (NTP stepping a drifted node, a VM resumed, a hand-set date): plan()
// gets `now` from Date.now and cannot tell. Under any churn with jumps back and forward: no IP
// is released twice, or while it holds a pod or is releasing already; the release timer never
// ticks before its tick was due in real time, except the one tick a forward jump gives; a
// freed IP rests its ipCooldown of real time unless the clock jumped forward; and after a jump
// back no tick is more than an interval away, and no IP cools or pod waits longer than the
// settings say (the times re-anchor on now).
import { expect, test } from "bun:test";
import fc from "fast-check";
import { allocate, release } from "./allocate.ts";
import { plan } from "./plan.ts";
import { FakeCloud, fixedRng, makeState, settings, SUBNET_A } from "./pool-kit.ts";
import type { PoolState } from "./types.ts";

const INTERVAL = 120_000;
const COOLDOWN = 30_000;
const HOUR = 3_600_000;

type Event =
  | { kind: "add" }
  | { kind: "delete"; pick: number }
  | { kind: "wait"; ms: number }
  | { kind: "jump"; ms: number }
  | { kind: "answer" };

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "add" as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick: fc.nat(1000) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 150_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("jump" as const), ms: fc.integer({ min: -3 * HOUR, max: 3 * HOUR }) }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: "answer" as const }) },
);

test("clock jumps back or forward release nothing early and nothing twice", () => {
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 200, size: "max" }), (events) => {
      const cloud = new FakeCloud();
      let s: PoolState = makeState({
        settings: settings({ minPrebind: 1, maxPrebind: 2, releaseIntervalMs: INTERVAL, cooldownMs: COOLDOWN }),
        quota: { enis: 3, ipsPerEni: 10, ipsPerCall: 10 },
        subnets: { [SUBNET_A]: 5000 },
      });
      let wall = 10 * HOUR; // Date.now(), which jumps
      let real = 0; // time as it passes
      let jumpedForward = false; // since the last plan
      let realDue: number | null = null; // when the next tick is due, in real time
      const gone = new Set<string>(); // IPs back in the VPC
      const freedAt = new Map<string, { real: number; jumped: boolean }>();
      let seq = 0;

      const step = () => {
        const before = s;
        const { state, decisions } = plan(s, wall);
        s = state;
        const slots = new Map(before.enis.flatMap((e) => e.ips.map((slot) => [slot.ip, slot] as const)));
        const inThisPlan = new Set<string>();
        for (const d of decisions) {
          if (d.action !== "release") continue;
          for (const ip of d.ips) {
            const slot = slots.get(ip);
            expect(gone.has(ip), `${ip} released twice`).toBe(false);
            expect(inThisPlan.has(ip), `${ip} in two releases of one plan`).toBe(false);
            expect(slot?.pod ?? null, `${ip} released while it holds a pod`).toBeNull();
            expect(slot?.releasing ?? false, `${ip} released while releasing already`).toBe(false);
            inThisPlan.add(ip);
          }
        }
        // A tick moves the cadence's due time forward (a re-anchor after a jump back moves it
        // back). Not before it was due in real time, as set at the last plan, unless the clock
        // jumped forward since: then once.
        const ticked = before.release.dueAt !== null && (s.release.dueAt ?? 0) > before.release.dueAt;
        if (ticked && !jumpedForward && realDue !== null)
          expect(real, "a release tick came early").toBeGreaterThanOrEqual(realDue);
        jumpedForward = false;
        realDue = s.release.dueAt === null ? null : real + (s.release.dueAt - wall);
        // Re-anchored: nothing rests or waits longer than the settings say, whatever the jump.
        expect((s.release.dueAt ?? wall) - wall, "the next tick is more than an interval away").toBeLessThanOrEqual(
          INTERVAL,
        );
        for (const e of s.enis) for (const slot of e.ips) expect(slot.coolUntil - wall).toBeLessThanOrEqual(COOLDOWN);
        for (const since of Object.values(s.waiting)) expect(since).toBeLessThanOrEqual(wall);
      };
      const add = () => {
        const key = `net/c${seq++}/eth0`;
        const r = allocate(s, key, wall, fixedRng(0));
        s = r.state;
        if (!r.ok) return;
        const freed = freedAt.get(r.ip);
        if (freed && !freed.jumped)
          expect(real - freed.real, `${r.ip} handed out within its cooldown`).toBeGreaterThanOrEqual(COOLDOWN);
        freedAt.delete(r.ip);
      };

      step();
      for (const ev of events) {
        if (ev.kind === "add") add();
        else if (ev.kind === "delete") {
          const keys = Object.keys(s.pods).sort();
          if (keys.length === 0) continue;
          const r = release(s, keys[ev.pick % keys.length] as string, wall);
          s = r.state;
          if (r.released) freedAt.set(r.released.ip, { real, jumped: false });
        } else if (ev.kind === "wait") {
          wall += ev.ms;
          real += ev.ms;
        } else if (ev.kind === "jump") {
          wall += ev.ms;
          if (ev.ms > 0) {
            jumpedForward = true;
            for (const f of freedAt.values()) f.jumped = true;
          }
        } else {
          for (const op of s.inflight)
            if (op.decision.action === "release") for (const ip of op.decision.ips) gone.add(ip);
          s = cloud.settle(s, wall);
        }
        step();
      }
    }),
    { numRuns: 300 },
  );
});
