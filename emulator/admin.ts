// The admin API under /_emulator/ (Authorization: Bearer <admin token>) and the same
// operations in-process for tests: faults, settings, credentials, clock, stats, state.
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Cloud } from "./cloud.ts";
import { Faults, Settings } from "./config.ts";
import { addInstance, type CredentialRec, type InstanceRec, type InstanceSpec, type State } from "./state.ts";

export interface Admin {
  state(): Promise<State>;
  faults(): Faults;
  setFaults(faults: z.input<typeof Faults>): void;
  setSettings(settings: Partial<z.input<typeof Settings>>): void;
  addCredential(cred: CredentialRec): void;
  /** Moves the emulator clock (signature window, task completion, token expiry) by `ms`. */
  setClockOffset(ms: number): void;
  stats(): Record<string, Record<string, number>>;
  /** Completes due tasks now instead of at the next request or tick. */
  tick(): Promise<void>;
  /**
   * Adds an instance (a node joining), with its primary ENI. Unset fields: a new ID, the first
   * instance type, and the subnet of the first instance (else the first subnet).
   */
  addInstance(spec?: Partial<InstanceSpec>): Promise<InstanceRec>;
}

const InstanceBody = z.strictObject({
  instanceId: z
    .string()
    .regex(/^ins-[a-z0-9]{8}$/)
    .optional(),
  instanceType: z.string().optional(),
  zone: z.string().optional(),
  subnetId: z.string().optional(),
  role: z.string().optional(),
});

const Credential = z.strictObject({
  secretId: z.string().min(1),
  secretKey: z.string().min(1),
  token: z.string().optional(),
  expiresAt: z.int().optional(),
  actions: z.array(z.string()).optional(),
});

export function makeAdmin(cloud: Cloud): Admin {
  return {
    state: () => cloud.exclusive(() => structuredClone(cloud.state)),
    faults: () => cloud.state.faults,
    setFaults: (faults) => cloud.setFaults(Faults.parse(faults)),
    setSettings: (settings) => {
      cloud.state.settings = Settings.parse({ ...cloud.state.settings, ...settings });
      cloud.persist();
    },
    addCredential: (cred) => {
      cloud.state.credentials = [
        ...cloud.state.credentials.filter((c) => c.secretId !== cred.secretId),
        Credential.parse(cred),
      ];
      cloud.persist();
    },
    setClockOffset: (ms) => cloud.setClockOffset(ms),
    stats: () => structuredClone(cloud.stats),
    tick: () => cloud.tick(),
    addInstance: (spec = {}) =>
      cloud.exclusive(() => {
        const { state } = cloud;
        const subnet =
          state.subnets.find((s) => s.subnetId === (spec.subnetId ?? state.instances[0]?.subnetId)) ?? state.subnets[0];
        if (!subnet) throw new Error("the world has no subnet to put an instance in");
        const inst = addInstance(
          state,
          cloud.rng,
          {
            instanceId: spec.instanceId ?? cloud.rng.id("ins"),
            instanceType: spec.instanceType ?? Object.keys(state.instanceTypes)[0] ?? "",
            zone: spec.zone ?? subnet.zone,
            subnetId: subnet.subnetId,
            role: spec.role ?? "vpccni-node",
          },
          cloud.now(),
        );
        cloud.persist();
        return structuredClone(inst);
      }),
  };
}

export async function handleAdmin(admin: Admin, adminToken: string, req: Request, path: string): Promise<Response> {
  const given = Buffer.from(req.headers.get("authorization") ?? "");
  const want = Buffer.from(`Bearer ${adminToken}`);
  if (given.length !== want.length || !timingSafeEqual(given, want))
    return Response.json({ error: "admin API needs 'Authorization: Bearer <admin token>'" }, { status: 401 });
  const route = `${req.method} ${path}`;
  try {
    const body = req.method === "GET" ? undefined : await req.json();
    switch (route) {
      case "GET state":
        return Response.json(await admin.state());
      case "GET faults":
        return Response.json(admin.faults());
      case "PUT faults":
        admin.setFaults(body as z.input<typeof Faults>);
        return Response.json(admin.faults());
      case "PATCH settings":
        admin.setSettings(body as Partial<z.input<typeof Settings>>);
        return Response.json((await admin.state()).settings);
      case "POST credentials":
        admin.addCredential(body as CredentialRec);
        return new Response(null, { status: 204 });
      case "POST clock":
        admin.setClockOffset(z.object({ offsetMs: z.number() }).parse(body).offsetMs);
        return new Response(null, { status: 204 });
      case "GET stats":
        return Response.json(admin.stats());
      case "POST tick":
        await admin.tick();
        return new Response(null, { status: 204 });
      case "POST instances":
        return Response.json(await admin.addInstance(InstanceBody.parse(body ?? {})), { status: 201 });
      default:
        return Response.json(
          {
            error: `no admin route '${route}'; routes: GET state, GET|PUT faults, PATCH settings, POST credentials, POST clock, GET stats, POST tick, POST instances`,
          },
          { status: 404 },
        );
    }
  } catch (e) {
    const message =
      e instanceof z.ZodError
        ? e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
        : (e as Error).message;
    return Response.json({ error: message }, { status: 400 });
  }
}
