import { expect, test } from "bun:test";
import type { CredentialSource } from "../cloud/credentials.ts";
import { CREDENTIALS_MISSING, waitForCredentials } from "./credentials-wait.ts";
import type { Logger } from "./log.ts";

function recorder() {
  const lines: string[] = [];
  const log = {
    debug: () => {},
    info: (msg: string) => lines.push(`info ${msg}`),
    warn: (msg: string) => lines.push(`warn ${msg}`),
    error: (msg: string) => lines.push(`error ${msg}`),
  } as unknown as Logger;
  return { lines, log };
}

test("missing credentials: waits, warns and records an Event once a minute, goes on when they appear", async () => {
  let t = 0;
  let calls = 0;
  const source: CredentialSource = {
    description: "secret /etc/vpccni/credentials",
    async get() {
      calls++;
      if (calls < 30)
        throw new Error("credentials: /etc/vpccni/credentials/TENCENTCLOUD_SECRET_KEY cannot be read (ENOENT)");
      return { secretId: "id", secretKey: "key" };
    },
  };
  const { lines, log } = recorder();
  const events: string[] = [];
  await waitForCredentials(source, {
    log,
    event: (reason, message) => events.push(`${reason}: ${message}`),
    intervalMs: 5_000,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  });
  expect(calls).toBe(30);
  // 29 failures, 5 s apart: warned at 0 s, 60 s and 120 s
  expect(lines).toEqual([
    "warn waiting for credentials",
    "warn waiting for credentials",
    "warn waiting for credentials",
    "info credentials found",
  ]);
  expect(events).toHaveLength(3);
  expect(events[0]).toBe(
    `${CREDENTIALS_MISSING}: credentials: /etc/vpccni/credentials/TENCENTCLOUD_SECRET_KEY cannot be read (ENOENT); the agent waits, not ready, until they are there (secret /etc/vpccni/credentials)`,
  );
});

test("credentials that are there: no wait, nothing said", async () => {
  const { lines, log } = recorder();
  let slept = 0;
  await waitForCredentials(
    { description: "environment", get: async () => ({ secretId: "a", secretKey: "b" }) },
    { log, sleep: async () => void slept++ },
  );
  expect({ lines, slept }).toEqual({ lines: [], slept: 0 });
});
