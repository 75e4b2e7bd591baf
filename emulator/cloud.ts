// The API 3.0 endpoint: authentication, faults, ClientToken idempotency, dispatch to the
// action handlers, and the error envelope. One lock serialises state changes, so handlers and
// fabric hooks never interleave.
import { createHash } from "node:crypto";
import { handlers, IDEMPOTENT, MUTATING } from "./actions/index.ts";
import { authenticate } from "./auth.ts";
import { ACTIONS, rateLimitOf, type Action, type Faults } from "./config.ts";
import { ApiError } from "./errors.ts";
import type { Fabric } from "./fabric.ts";
import { faultFor, History, latencyMs, rollError, rollHang, tampered, Throttle } from "./faults.ts";
import { Rng } from "./rng.ts";
import { saveState, type State } from "./state.ts";
import { settle } from "./tasks.ts";

export const API_VERSION = "2017-03-12";

export interface CloudOptions {
  state: State;
  statePath?: string;
  fabric: Fabric;
  now: () => number;
  log: (line: string) => void;
}

export class Cloud {
  readonly state: State;
  readonly rng: Rng;
  private readonly throttle = new Throttle();
  private readonly history = new History();
  private lock: Promise<unknown> = Promise.resolve();
  private clockOffsetMs = 0;
  private readonly stopWaiters: (() => void)[] = [];
  /** Answers by action and code ("OK" for success), for the admin API and the bench. */
  readonly stats: Record<string, Record<string, number>> = {};

  constructor(private readonly opts: CloudOptions) {
    this.state = opts.state;
    this.rng = new Rng(opts.state.rngPosition);
    this.history.record(this.now(), this.state.enis, this.keepMs());
  }

  now(): number {
    return this.opts.now() + this.clockOffsetMs;
  }

  setClockOffset(ms: number): void {
    this.clockOffsetMs = ms;
  }

  setFaults(faults: Faults): void {
    this.state.faults = faults;
    this.throttle.reset();
    this.persist();
  }

  /** Runs `fn` with the state to itself, after completing due tasks. */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.lock.then(async () => {
      if (await settle(this.state, this.now(), this.opts.fabric, this.opts.log)) this.changed();
      return fn();
    });
    this.lock = run.catch(() => {});
    return run;
  }

  /** Completes due tasks now (called from a periodic tick). */
  tick(): Promise<void> {
    return this.exclusive(() => {});
  }

  async handle(req: Request): Promise<Response> {
    const body = new Uint8Array(await req.arrayBuffer());
    const action = req.headers.get("x-tc-action") ?? "";
    const requestId = this.rng.uuid();
    const answer = await this.answer(req, action, body, requestId).catch((e: unknown) => {
      if (e instanceof ApiError) return { Error: { Code: e.code, Message: e.message }, RequestId: requestId };
      this.opts.log(`internal error in ${action}: ${(e as Error).stack ?? String(e)}`);
      return { Error: { Code: "InternalError", Message: "An internal error occurred." }, RequestId: requestId };
    });
    const code = (answer as { Error?: { Code: string } }).Error?.Code ?? "OK";
    const byCode = (this.stats[action || "(none)"] ??= {});
    byCode[code] = (byCode[code] ?? 0) + 1;
    return Response.json({ Response: answer });
  }

  private async answer(
    req: Request,
    action: string,
    body: Uint8Array,
    requestId: string,
  ): Promise<Record<string, unknown>> {
    if (action === "") throw new ApiError("MissingParameter", "The request has no X-TC-Action header.");
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new ApiError("InvalidAction", `Action '${action}' is not served; allowed: ${ACTIONS.join(", ")}.`);
    const version = req.headers.get("x-tc-version");
    if (version !== API_VERSION)
      throw new ApiError(
        "InvalidParameterValue",
        `X-TC-Version is ${JSON.stringify(version)}; allowed: ${API_VERSION}`,
      );
    authenticate({
      headers: req.headers,
      body,
      action,
      nowMs: this.now(),
      clockSkewSec: this.state.settings.clockSkewSec,
      credentials: this.state.credentials,
    });
    const region = req.headers.get("x-tc-region");
    if (region !== this.state.region)
      throw new ApiError(
        "UnsupportedRegion",
        `X-TC-Region is ${JSON.stringify(region)}; this emulator serves ${this.state.region}.`,
      );
    let params: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(new TextDecoder().decode(body) || "{}");
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      params = parsed as Record<string, unknown>;
    } catch {
      throw new ApiError("InvalidParameter", "The request body is not a JSON object.");
    }

    const fault = faultFor(this.state.faults, action);
    const rate = rateLimitOf(this.state.settings, fault, action);
    if (!this.throttle.admit(action, rate, this.now())) {
      throw new ApiError("RequestLimitExceeded", `${action} is limited to ${rate} requests per second.`);
    }
    if (rollHang(fault, this.rng)) {
      await new Promise<void>((resolve) => this.stopWaiters.push(resolve));
      throw new ApiError("InternalError", "The emulator stopped while this request hung.");
    }
    const delay = latencyMs(fault, this.rng);
    if (delay > 0) await Bun.sleep(delay);
    const roll = rollError(fault, this.rng);
    const injected = () => new ApiError(fault!.errorCode, `Injected fault: ${fault!.errorCode}.`);
    if (roll === "before") throw injected();

    const result = await this.exclusive(() => this.run(action as Action, params, requestId, fault?.staleMs ?? 0));
    if (roll === "after") throw injected();
    return fault?.tamper ? (tampered(result, fault.tamper) as Record<string, unknown>) : result;
  }

  private run(
    action: Action,
    params: Record<string, unknown>,
    requestId: string,
    staleMs: number,
  ): Record<string, unknown> {
    const token =
      IDEMPOTENT.has(action) && typeof params.ClientToken === "string" && params.ClientToken !== ""
        ? params.ClientToken
        : undefined;
    const { ClientToken: _drop, ...rest } = params;
    const paramsHash = createHash("sha256").update(canonicalJson(rest)).digest("hex");
    if (token !== undefined) {
      const seen = this.state.clientTokens[`${action}/${token}`];
      if (seen && seen.paramsHash === paramsHash) return seen.response;
      if (seen)
        throw new ApiError(
          "UnsupportedOperation.IdempotentParameterMismatch",
          `ClientToken '${token}' was used for a different ${action} request; allowed: a new token per distinct request`,
        );
    }
    const nowMs = this.now();
    const view = (staleMs > 0 && this.history.at(nowMs - staleMs)) || this.state.enis;
    const response = {
      ...handlers[action]({ state: this.state, rng: this.rng, nowMs, requestId, view }, params),
      RequestId: requestId,
    };
    if (MUTATING.has(action)) {
      const task = this.state.tasks[requestId];
      const failRate = faultFor(this.state.faults, action)?.taskFailRate ?? 0;
      if (task && failRate > 0 && this.rng.next() < failRate) task.fail = true;
      if (token !== undefined) this.state.clientTokens[`${action}/${token}`] = { paramsHash, response };
      this.changed();
    }
    return response;
  }

  /** Longest stale window any Describe fault asks for. */
  private keepMs(): number {
    return Math.max(0, ...Object.values(this.state.faults).map((f) => f.staleMs));
  }

  private changed(): void {
    this.history.record(this.now(), this.state.enis, this.keepMs());
    this.persist();
  }

  persist(): void {
    this.state.rngPosition = this.rng.position;
    if (this.opts.statePath) saveState(this.opts.statePath, this.state);
  }

  /** Releases hung requests; they end without an answer when the server closes. */
  releaseHung(): void {
    for (const w of this.stopWaiters.splice(0)) w();
  }
}

/** JSON with object keys sorted, so that the same parameters in another order hash the same. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
