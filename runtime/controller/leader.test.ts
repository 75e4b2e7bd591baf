// The leader steps down before a standby may take over: it gives up leading once it has failed
// to renew for two thirds of the lease, while the standby waits out the whole lease. The Lease
// store here is in memory; the real client runs the same rounds in test/compiler/controller-rbac.test.ts.
import { expect, test } from "bun:test";
import type { Lease, LeasePort } from "../kube/controller-client.ts";
import { LeaderElector } from "./leader.ts";

test("a leader that cannot renew steps down before the lease runs out; the standby takes over only after it", async () => {
  let lease: Lease | null = null;
  let rv = 0;
  let down = false;
  const kube: LeasePort = {
    async getLease() {
      if (down) throw new Error("connection refused");
      return lease ? { ...lease } : null;
    },
    async createLease(_ns, _n, holder, durationMs, now) {
      if (lease) return false;
      lease = { holder, renewedAt: now, durationMs, resourceVersion: String(++rv) };
      return true;
    },
    async updateLease(_ns, _n, holder, durationMs, now, resourceVersion) {
      if (lease?.resourceVersion !== resourceVersion) return false;
      lease = { holder, renewedAt: now, durationMs, resourceVersion: String(++rv) };
      return true;
    },
  };
  let t = 1_000_000;
  const quiet = { info: () => {}, warn: () => {} };
  const mk = (identity: string) =>
    new LeaderElector({ kube, namespace: "ns", name: "l", identity, renewMs: 3_600_000, now: () => t, log: quiet });
  const a = mk("a");
  const b = mk("b");
  await a.tick();
  await b.tick();
  expect([a.leader, b.leader]).toEqual([true, false]);
  // a loses the API server: still leading within two thirds of the 12 s lease, not after
  down = true;
  t += 7_000;
  await a.tick();
  expect(a.leader).toBe(true);
  t += 1_500;
  await a.tick();
  expect(a.leader).toBe(false);
  // b sees the Lease still a's until 12 s after a's last renewal: never two leaders
  down = false;
  await b.tick();
  expect(b.leader).toBe(false);
  t += 3_600;
  await b.tick();
  expect([a.leader, b.leader]).toEqual([false, true]);
});
