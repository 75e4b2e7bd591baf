// The CVM role's credentials against the emulated metadata service (2 h pairs, as the cloud
// hands out) on a fake clock: refreshed 5 min plus jitter before expiry, and a metadata service
// that fails at that moment costs nothing until the cached pair really expires.
// docs/security.md#cvm-role-credentials-refresh.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Emulator, startEmulator } from "../../emulator/index.ts";
import { cvmRoleCredentials, REFRESH_BEFORE_EXPIRY_MS, REFRESH_JITTER_MS, REFRESH_RETRY_MS } from "./credentials.ts";
import { FakeClock, INSTANCE, testConfig } from "./emulated-vpc-kit.ts";
import { MetadataClient } from "./metadata.ts";

const TTL_S = 7200;
const clock = new FakeClock();
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({
    config: testConfig({ settings: { tempCredentialTtlSec: TTL_S } }),
    now: clock.now,
    log: () => {},
  });
});
afterAll(async () => {
  await emu.stop();
});

/** Far past the last pair's life, on a whole second (the metadata service's ExpiredTime is in seconds). */
const freshPair = () => {
  clock.t = (Math.floor(clock.t / 1000) + 3 * TTL_S) * 1000;
};

/** A metadata client that counts credential reads and fails while `down` is set. */
function metadata() {
  const m = { reads: 0, down: false };
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    if (String(url).includes("security-credentials/")) m.reads++;
    if (m.down) throw new Error("connect ECONNREFUSED 169.254.0.23:80");
    return fetch(url, init);
  }) as typeof fetch;
  return Object.assign(m, { client: new MetadataClient(emu.metadataUrl(INSTANCE), fetchFn) });
}

describe("CVM role credentials refresh", () => {
  test("refreshed 5 min before expiry at the earliest jitter, 6 min at the latest, not before", async () => {
    for (const [random, margin] of [
      [0, REFRESH_BEFORE_EXPIRY_MS],
      [0.999_999, REFRESH_BEFORE_EXPIRY_MS + REFRESH_JITTER_MS],
    ] as const) {
      freshPair();
      const md = metadata();
      const role = cvmRoleCredentials(md.client, clock, { random: () => random });
      const first = await role.get();
      const expiresAt = clock.t + TTL_S * 1000;
      clock.t = expiresAt - margin - 1_000;
      expect(await role.get()).toBe(first);
      const reads = md.reads;
      clock.t = expiresAt - margin + 1;
      const second = await role.get();
      expect(md.reads).toBeGreaterThan(reads);
      expect({ random, renewed: second.secretId !== first.secretId }).toEqual({ random, renewed: true });
    }
  });

  test("nodes whose pairs expire together refresh at times spread over the jitter window", async () => {
    const refreshedAt: number[] = [];
    for (const random of [0.1, 0.5, 0.9]) {
      freshPair();
      const expiresAt = clock.t + TTL_S * 1000;
      const md = metadata();
      const role = cvmRoleCredentials(md.client, clock, { random: () => random });
      await role.get();
      const reads = md.reads;
      // walk towards expiry in 5 s steps until the first new read
      for (let t = expiresAt - REFRESH_BEFORE_EXPIRY_MS - REFRESH_JITTER_MS - 5_000; md.reads === reads; t += 5_000) {
        clock.t = t;
        await role.get();
      }
      refreshedAt.push(expiresAt - clock.t);
    }
    expect(new Set(refreshedAt).size).toBe(3);
    for (const left of refreshedAt) {
      expect(left).toBeGreaterThanOrEqual(REFRESH_BEFORE_EXPIRY_MS - 5_000);
      expect(left).toBeLessThanOrEqual(REFRESH_BEFORE_EXPIRY_MS + REFRESH_JITTER_MS);
    }
  });

  test("a failed refresh keeps the cached pair until it really expires, then fails with the cause", async () => {
    freshPair();
    const md = metadata();
    const errors: string[] = [];
    const role = cvmRoleCredentials(md.client, clock, {
      random: () => 0,
      onRefreshError: (e) => errors.push(e.message),
    });
    const first = await role.get();
    const expiresAt = clock.t + TTL_S * 1000;
    md.down = true;
    clock.t = expiresAt - REFRESH_BEFORE_EXPIRY_MS + 1;
    expect(await role.get()).toBe(first);
    // the cause, the path, and that the client tried more than once
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^metadata cam\/security-credentials\/ at http:\S+: connect ECONNREFUSED 169\.254\.0\.23:80 \(4 attempts\)$/,
    );
    // the next try waits REFRESH_RETRY_MS, not every call
    const reads = md.reads;
    expect(await role.get()).toBe(first);
    expect(md.reads).toBe(reads);
    clock.t += REFRESH_RETRY_MS;
    expect(await role.get()).toBe(first);
    expect(md.reads).toBeGreaterThan(reads);
    clock.t = expiresAt - 1;
    expect(await role.get()).toBe(first);
    clock.t = expiresAt;
    await expect(role.get()).rejects.toThrow("ECONNREFUSED");
    md.down = false;
    const next = await role.get();
    expect(next.secretId).not.toBe(first.secretId);
  });
});

describe("metadata reads", () => {
  test("a read that times out or gets a 5xx is tried again; a 404 is an answer, not tried again", async () => {
    const seen: string[] = [];
    let failures = 2;
    const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
      seen.push(String(url));
      if (String(url).endsWith("instance-id") && failures-- > 0)
        return failures === 1
          ? new Response("busy", { status: 503 })
          : Promise.reject(Object.assign(new Error("The operation timed out."), { name: "TimeoutError" }));
      return fetch(url, init);
    }) as typeof fetch;
    const md = new MetadataClient(emu.metadataUrl(INSTANCE), fetchFn);
    expect(await md.instanceId()).toBe(INSTANCE);
    expect(seen.filter((u) => u.endsWith("instance-id"))).toHaveLength(3);
    await expect(md.get("no-such-path")).rejects.toThrow("metadata no-such-path: HTTP 404");
    expect(seen.filter((u) => u.endsWith("no-such-path"))).toHaveLength(1);
  });

  test("a service that never answers: the error names the path, the wait and the attempts", async () => {
    const fetchFn = (async () =>
      Promise.reject(
        Object.assign(new Error("The operation timed out."), { name: "TimeoutError" }),
      )) as unknown as typeof fetch;
    const md = new MetadataClient("http://md.invalid/", fetchFn, 50, 2);
    await expect(md.get("instance-id")).rejects.toThrow(
      "metadata instance-id at http://md.invalid/: no answer within 50 ms (2 attempts)",
    );
  });
});
