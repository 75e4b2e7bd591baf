// startEmulator: the programmatic entry point (tests, the demo, the CLI). One Bun server on
// loopback serves the API at /, instance metadata at /meta/<id>/latest/meta-data/ and the
// admin API at /_emulator/.
import { randomBytes } from "node:crypto";
import { handleAdmin, makeAdmin, type Admin } from "./admin.ts";
import { Cloud } from "./cloud.ts";
import { parseConfig, type EmulatorConfig, type EmulatorConfigInput } from "./config.ts";
import { noopFabric, type Fabric } from "./fabric.ts";
import { handleMetadata, METADATA_PREFIX } from "./metadata.ts";
import { buildState, loadState, type CredentialRec, type State } from "./state.ts";

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  hostname?: string;
  config?: EmulatorConfigInput | EmulatorConfig;
  /** Persist the state here after every change; load it at start when the file exists. */
  statePath?: string;
  /** Overrides config.instanceCount for the default world. */
  instances?: number;
  fabric?: Fabric;
  /** Emulator clock in ms (default Date.now): signature window, tasks, temporary credentials. */
  now?: () => number;
  /** Where diagnostics go (default stderr). Never receives secrets. */
  log?: (line: string) => void;
  /** Bearer token of the admin API; default random. */
  adminToken?: string;
  /** How often due tasks complete without a request, ms (default 20). */
  tickMs?: number;
  /** Where the default credential comes from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface Emulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, the SDK's httpProfile.endpoint (with protocol "http://"). */
  endpoint: string;
  port: number;
  region: string;
  /** The first configured (long-term) credential. */
  credentials: { secretId: string; secretKey: string };
  adminToken: string;
  /** Base of an instance's metadata tree, ending in /latest/meta-data/. */
  metadataUrl(instanceId: string): string;
  /**
   * A listener of its own (127.0.0.1, a free port) serving one instance's metadata at the real
   * service's paths (/latest/meta-data/...), as metadata.tencentyun.com answers each instance:
   * what a node whose agent uses the default metadata URL reaches through a forward. Stopped
   * with the emulator.
   */
  instanceMetadataServer(instanceId: string): { port: number; url: string };
  /** A copy of the static world: VPCs, subnets, security groups, instance types and instances. */
  inventory(): Inventory;
  admin: Admin;
  stop(): Promise<void>;
}

export type Inventory = Pick<State, "region" | "vpcs" | "subnets" | "securityGroups" | "instanceTypes" | "instances">;

export function initialState(opts: Pick<EmulatorOptions, "config" | "instances" | "env" | "now">): State {
  const config = parseConfig(opts.config ?? {});
  return buildState(config, {
    instances: opts.instances,
    env: opts.env ?? process.env,
    nowMs: (opts.now ?? Date.now)(),
  }).state;
}

export function inventoryOf(state: State): Inventory {
  const { region, vpcs, subnets, securityGroups, instanceTypes, instances } = structuredClone(state);
  return { region, vpcs, subnets, securityGroups, instanceTypes, instances };
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? ((line: string) => process.stderr.write(`emulator: ${line}\n`));
  const state = (opts.statePath && loadState(opts.statePath)) || initialState(opts);
  const cloud = new Cloud({ state, statePath: opts.statePath, fabric: opts.fabric ?? noopFabric, now, log });
  cloud.persist();
  const admin = makeAdmin(cloud);
  const adminToken = opts.adminToken ?? randomBytes(16).toString("hex");
  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    idleTimeout: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path.startsWith("/_emulator/")) return handleAdmin(admin, adminToken, req, path.slice("/_emulator/".length));
      if (path.startsWith(METADATA_PREFIX)) return handleMetadata(cloud, path.slice(METADATA_PREFIX.length));
      if (path === "/" && req.method === "POST") return cloud.handle(req);
      return new Response(
        "not found: the API is POST /, metadata under /meta/<instance-id>/latest/meta-data/, admin under /_emulator/\n",
        { status: 404 },
      );
    },
  });
  const timer = setInterval(
    () => void cloud.tick().catch((e) => log(`tick failed: ${(e as Error).message}`)),
    opts.tickMs ?? 20,
  );
  const perInstance = new Map<string, ReturnType<typeof Bun.serve>>();
  const instanceMetadataServer = (instanceId: string) => {
    let s = perInstance.get(instanceId);
    if (!s) {
      s = Bun.serve({
        port: 0,
        hostname: "127.0.0.1",
        idleTimeout: 0,
        fetch(req) {
          const path = new URL(req.url).pathname;
          // the real service's paths; anything else is what the real one answers: 404
          if (!path.startsWith("/latest/meta-data")) return new Response("404 - Not Found", { status: 404 });
          return handleMetadata(cloud, `${instanceId}${path}`);
        },
      });
      perInstance.set(instanceId, s);
    }
    return { port: s.port!, url: `http://127.0.0.1:${s.port}/latest/meta-data/` };
  };
  const longTerm = state.credentials.find((c: CredentialRec) => c.token === undefined) ?? state.credentials[0]!;
  const url = `http://${server.hostname}:${server.port}`;
  return {
    url,
    endpoint: `${server.hostname}:${server.port}`,
    port: server.port!,
    region: state.region,
    credentials: { secretId: longTerm.secretId, secretKey: longTerm.secretKey },
    adminToken,
    metadataUrl: (id) => `${url}${METADATA_PREFIX}${id}/latest/meta-data/`,
    instanceMetadataServer,
    inventory: () => inventoryOf(cloud.state),
    admin,
    async stop() {
      clearInterval(timer);
      cloud.releaseHung();
      await cloud.exclusive(() => cloud.persist());
      for (const s of perInstance.values()) await s.stop(true);
      await server.stop(true);
    },
  };
}
