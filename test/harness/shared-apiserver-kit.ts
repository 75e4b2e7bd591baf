// One cluster shared by the suites of a test process: starting kube-apiserver costs
// seconds, and every suite works in namespaces of its own anyway.
import { afterAll, beforeAll } from "bun:test";
import { startCluster, type Cluster } from "../../sandbox/apiserver.ts";

let starting: Promise<Cluster> | undefined;
let users = 0;

/** Starts the shared cluster on first use; pair every call with releaseSharedCluster(). */
export async function acquireSharedCluster(): Promise<Cluster> {
  users++;
  starting ??= startCluster();
  try {
    return await starting;
  } catch (err) {
    users--;
    starting = undefined;
    throw err;
  }
}

/** Stops the shared cluster when its last user releases it. */
export async function releaseSharedCluster(): Promise<void> {
  if (users === 0) return;
  users--;
  if (users > 0 || !starting) return;
  const cluster = starting;
  starting = undefined;
  await (await cluster).stop();
}

/**
 * For a test file or describe block: acquires the shared cluster in beforeAll, releases it
 * in afterAll, and returns a getter for use inside the tests.
 */
export function useSharedCluster(timeoutMs = 120_000): () => Cluster {
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await acquireSharedCluster();
  }, timeoutMs);
  afterAll(async () => {
    if (cluster) await releaseSharedCluster();
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error("the shared cluster is not running (did beforeAll fail?)");
    return cluster;
  };
}
