// The admin API under /_emulator/ (Authorization: Bearer <admin token>) and the same
// operations in-process for tests: faults, settings, credentials, clock, stats, state.
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Cloud } from "./cloud.ts";
import { Faults, Settings } from "./config.ts";
import type { CredentialRec, State } from "./state.ts";

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
}

const Credential = z.strictObject({ secretId: z.string().min(1), secretKey: z.string().min(1), token: z.string().optional(), expiresAt: z.int().optional(), actions: z.array(z.string()).optional() });

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
      cloud.state.credentials = [...cloud.state.credentials.filter((c) => c.secretId !== cred.secretId), Credential.parse(cred)];
      cloud.persist();
    },
    setClockOffset: (ms) => cloud.setClockOffset(ms),
    stats: () => structuredClone(cloud.stats),
    tick: () => cloud.tick(),
  };
}

export async function handleAdmin(admin: Admin, adminToken: string, req: Request, path: string): Promise<Response> {
  const given = Buffer.from(req.headers.get("authorization") ?? "");
  const want = Buffer.from(`Bearer ${adminToken}`);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return Response.json({ error: "admin API needs 'Authorization: Bearer <admin token>'" }, { status: 401 });
  const route = `${req.method} ${path}`;
  try {
    const body = req.method === "GET" ? undefined : await req.json();
    switch (route) {
      case "GET state": return Response.json(await admin.state());
      case "GET faults": return Response.json(admin.faults());
      case "PUT faults": admin.setFaults(body as z.input<typeof Faults>); return Response.json(admin.faults());
      case "PATCH settings": admin.setSettings(body as Partial<z.input<typeof Settings>>); return Response.json((await admin.state()).settings);
      case "POST credentials": admin.addCredential(body as CredentialRec); return new Response(null, { status: 204 });
      case "POST clock": admin.setClockOffset(z.object({ offsetMs: z.number() }).parse(body).offsetMs); return new Response(null, { status: 204 });
      case "GET stats": return Response.json(admin.stats());
      case "POST tick": await admin.tick(); return new Response(null, { status: 204 });
      default: return Response.json({ error: `no admin route '${route}'; routes: GET state, GET|PUT faults, PATCH settings, POST credentials, POST clock, GET stats, POST tick` }, { status: 404 });
    }
  } catch (e) {
    const message = e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : (e as Error).message;
    return Response.json({ error: message }, { status: 400 });
  }
}
