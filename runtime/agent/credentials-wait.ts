// A node whose cloud credentials are not there yet (the Secret not created, a SOPS or Sealed
// Secrets controller still at work, a key missing) waits for them instead of crash-looping:
// the pod stays not ready, the log and a Node Event say what is missing and how to fix it, and
// the agent goes on once the keys appear (the kubelet updates a mounted Secret's files in place).
import type { CredentialSource } from "../cloud/credentials.ts";
import type { Logger } from "./log.ts";

export const CREDENTIALS_MISSING = "CredentialsMissing";

export interface CredentialsWait {
  log: Logger;
  /** Records a Warning Event on the Node (none without Kubernetes). */
  event?: (reason: string, message: string) => void;
  /** How often to look again (default 5 s) and to repeat the warning (default 60 s). */
  intervalMs?: number;
  announceEveryMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export async function waitForCredentials(source: CredentialSource, w: CredentialsWait): Promise<void> {
  const sleep = w.sleep ?? ((ms: number) => Bun.sleep(ms));
  const now = w.now ?? Date.now;
  let announcedAt: number | undefined;
  for (;;) {
    try {
      await source.get();
      if (announcedAt !== undefined) w.log.info("credentials found", { source: source.description });
      return;
    } catch (error) {
      const t = now();
      if (announcedAt === undefined || t - announcedAt >= (w.announceEveryMs ?? 60_000)) {
        const message = `${(error as Error).message}; the agent waits, not ready, until they are there (${source.description})`;
        w.log.warn("waiting for credentials", { error: (error as Error).message, source: source.description });
        w.event?.(CREDENTIALS_MISSING, message);
        announcedAt = t;
      }
    }
    await sleep(w.intervalMs ?? 5_000);
  }
}
