// `vpccni controller`: the cluster component. It serves the eni-ip admission webhook on every
// replica (webhook.ts), with TLS it keeps in a Secret and a caBundle it sets itself
// (tls-bootstrap.ts). One replica, elected on a Lease (leader.ts), removes the ENIs of nodes
// that left the cluster (departed-enis.ts); fixed IP's loops will join it there. A resync re-checks the
// Secret and the caBundle every minute: a renewed certificate is served from then on, and a
// caBundle a GitOps tool removed is put back. With --webhook-tls cert-manager, cert-manager
// issues the Secret and sets the caBundle; the controller only reads it (tls-source.ts).
import type { VpcApi } from "../cloud/types.ts";
import type { ControllerKubePort } from "../kube/controller-client.ts";
import { sweepDepartedEnis } from "./departed-enis.ts";
import { FixedLoop } from "./fixed-loop.ts";
import type { FixedPass } from "./fixed-pass.ts";
import { LeaderElector } from "./leader.ts";
import type { Logger } from "../agent/log.ts";
import { type ServedTls, type WebhookTlsMode, type WebhookTlsSource, webhookTlsSource } from "./tls-source.ts";
import { createdPod, review, WEBHOOK_PATH, type WebhookSettings } from "./webhook.ts";

export interface ControllerOptions {
  namespace: string;
  webhookSecret: string;
  webhookService: string;
  webhookConfiguration: string;
  /** Where the serving certificate comes from (default self-managed). */
  webhookTls?: WebhookTlsMode;
  /** host:port of the HTTPS webhook. */
  listen: string;
  /** host:port of /healthz and /readyz (plain HTTP, for the kubelet's probes); null: none. */
  healthListen: string | null;
  settings: WebhookSettings;
  kube: ControllerKubePort;
  log: Logger;
  resyncMs?: number;
  /** This replica's name in the Lease (the pod's name). */
  identity: string;
  /** The Lease the replicas elect a leader on (in `namespace`). */
  leaseName?: string;
  leaseMs?: number;
  /** The departed-node ENI sweep (the leader's); absent: no cloud access, no sweep. */
  sweep?: { api: VpcApi; clusterId: string; intervalMs: number; guardMs: number };
  /** Fixed IP mode: the leader's allocation passes (fixed-pass.ts); absent: shared mode. */
  fixed?: { pass: FixedPass; intervalMs: number; watch?: (onChange: () => void) => () => void };
  /** Fixed IP mode: the subnet of the address a pod's claim holds, or null (the webhook's placement rule). */
  claimSubnet?: (namespace: string, name: string) => Promise<string | null>;
}

/** Biggest AdmissionReview accepted: a pod spec is far smaller (the API server caps at 3 MiB). */
const MAX_BODY = 3 * 1024 * 1024;
/** How often a replica with nothing to serve yet (cert-manager has not issued) looks again. */
const WAIT_POLL_MS = 2_000;

function hostPort(s: string): { hostname: string; port: number } {
  const i = s.lastIndexOf(":");
  return { hostname: s.slice(0, i) || "0.0.0.0", port: Number(s.slice(i + 1)) };
}

export class Controller {
  private webhook: ReturnType<typeof Bun.serve> | undefined;
  private health: ReturnType<typeof Bun.serve> | undefined;
  private tls: ServedTls | undefined;
  private readonly tlsSource: WebhookTlsSource;
  /** Why no certificate is served yet (the /readyz message). */
  private waiting: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ready = false;
  private stopped = false;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private sweeping: Promise<void> = Promise.resolve();
  reviews = 0;
  readonly elector: LeaderElector;
  /** Fixed IP mode's allocation loop (the leader's); undefined in shared mode. */
  readonly fixed: FixedLoop | undefined;

  /** Completed sweep passes (tests wait on it). */
  sweeps = 0;

  constructor(private readonly opts: ControllerOptions) {
    this.tlsSource = webhookTlsSource(opts.webhookTls ?? "self-managed", opts.kube, {
      namespace: opts.namespace,
      secret: opts.webhookSecret,
      webhookService: opts.webhookService,
      webhookConfiguration: opts.webhookConfiguration,
    });
    this.elector = new LeaderElector({
      kube: opts.kube,
      namespace: opts.namespace,
      name: opts.leaseName ?? "vpccni-controller",
      identity: opts.identity,
      leaseMs: opts.leaseMs,
      renewMs: opts.leaseMs === undefined ? undefined : Math.max(200, Math.floor(opts.leaseMs / 3)),
      log: opts.log,
      // a new leader sweeps at once: the old one may have died in the middle of a pass
      onChange: (leader) => {
        if (leader) {
          this.sweepSoon();
          void this.fixed?.kick();
        }
      },
    });
    this.fixed = opts.fixed
      ? new FixedLoop({
          pass: opts.fixed.pass,
          leader: () => this.elector.leader,
          intervalMs: opts.fixed.intervalMs,
          ...(opts.fixed.watch ? { watch: opts.fixed.watch } : {}),
          log: opts.log,
        })
      : undefined;
  }

  /** One sweep pass, if this replica leads and has cloud access. */
  sweepSoon(): Promise<void> {
    const sweep = this.opts.sweep;
    if (!sweep) return Promise.resolve();
    this.sweeping = this.sweeping
      .then(async () => {
        if (!this.elector.leader) return;
        await sweepDepartedEnis({
          api: sweep.api,
          clusterId: sweep.clusterId,
          nodeNames: () => this.opts.kube.nodeNames(),
          log: this.opts.log,
          opts: { now: Date.now(), guardMs: sweep.guardMs },
        });
        this.sweeps++;
      })
      .catch((e: unknown) => this.opts.log.warn("departed-node ENI sweep failed", { error: (e as Error).message }));
    return this.sweeping;
  }

  get webhookPort(): number {
    return this.webhook?.port ?? 0;
  }
  get healthPort(): number {
    return this.health?.port ?? 0;
  }

  async start(): Promise<void> {
    const { opts } = this;
    if (opts.healthListen !== null) {
      this.health = Bun.serve({
        ...hostPort(opts.healthListen),
        fetch: (req) => {
          const path = new URL(req.url).pathname;
          if (path === "/healthz") return new Response("ok\n");
          if (path === "/readyz")
            return this.ready && this.webhook
              ? new Response("ok\n")
              : new Response(`${this.waiting ?? "webhook TLS not set up yet"}\n`, { status: 503 });
          return new Response("not found\n", { status: 404 });
        },
      });
    }
    await this.syncTls();
    this.scheduleTls();
    this.ready = true;
    await this.elector.start();
    if (opts.sweep) this.sweepTimer = setInterval(() => void this.sweepSoon(), opts.sweep.intervalMs);
    this.fixed?.start();
    opts.log.info("controller ready", {
      webhook: opts.listen,
      mode: opts.settings.mode,
      identity: opts.identity,
      webhookTls: this.tlsSource.mode,
      ...(this.waiting ? { waiting: this.waiting } : {}),
      leader: this.elector.leader,
      eniSweep: opts.sweep ? { cluster: opts.sweep.clusterId, guardMs: opts.sweep.guardMs } : "off (no --policy)",
      fixedIp: opts.fixed ? { intervalMs: opts.fixed.intervalMs } : "off (shared mode)",
    });
  }

  /** The next TLS resync: every resyncMs, or every WAIT_POLL_MS while there is nothing to serve. */
  private scheduleTls(): void {
    const every = this.opts.resyncMs ?? 60_000;
    this.timer = setTimeout(
      () =>
        void this.syncTls()
          .catch((e: unknown) => this.opts.log.warn("webhook TLS resync failed", { error: (e as Error).message }))
          .finally(() => {
            if (!this.stopped) this.scheduleTls();
          }),
      this.webhook ? every : Math.min(every, WAIT_POLL_MS),
    );
  }

  private async syncTls(): Promise<void> {
    const { opts } = this;
    const state = await this.tlsSource.load();
    if (this.stopped) return;
    if ("waiting" in state) {
      // a listener already up keeps serving the certificate it has
      if (state.waiting !== this.waiting) opts.log.warn("no webhook certificate to serve", { reason: state.waiting });
      this.waiting = state.waiting;
      return;
    }
    this.waiting = undefined;
    const tls = state.tls;
    if (this.tls?.cert === tls.cert && this.webhook) return;
    this.tls = tls;
    const previous = this.webhook;
    // a new certificate: a new listener on the same port (SO_REUSEPORT) is up before the old
    // one stops, so the webhook never stops answering
    this.webhook = Bun.serve({
      ...hostPort(opts.listen),
      ...(previous ? { port: previous.port } : {}),
      reusePort: true,
      tls: { cert: tls.cert, key: tls.key },
      maxRequestBodySize: MAX_BODY,
      fetch: (req) => this.handle(req),
    });
    previous?.stop(false);
    opts.log.info("serving the eni-ip webhook", { listen: opts.listen, renewed: previous !== undefined });
  }

  private async handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path !== WEBHOOK_PATH)
      return Response.json({ error: `not found; the webhook is POST ${WEBHOOK_PATH}` }, { status: 404 });
    if (req.method !== "POST") return Response.json({ error: `method ${req.method}; allowed: POST` }, { status: 405 });
    let body: unknown;
    try {
      body = await req.json();
    } catch {
      return Response.json({ error: "the body is not JSON: expected an AdmissionReview" }, { status: 400 });
    }
    const r = review(body, this.opts.settings, await this.claimSubnet(body));
    this.reviews++;
    return Response.json(r.body, { status: r.status });
  }

  /**
   * Fixed IP mode: the subnet of the address the pod's claim holds, for the placement rule.
   * A lookup that fails admits the pod without it (the controller then refuses a wrong node's
   * assignment and says why in the claim): the webhook must never block pod creation for it.
   */
  private async claimSubnet(body: unknown): Promise<string | null> {
    const lookup = this.opts.claimSubnet;
    const pod = lookup ? createdPod(body) : null;
    if (!lookup || !pod) return null;
    try {
      return await lookup(pod.namespace, pod.name);
    } catch (e) {
      this.opts.log.warn("claim lookup for the placement rule failed; pod admitted without it", {
        pod: `${pod.namespace}/${pod.name}`,
        error: (e as Error).message,
      });
      return null;
    }
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.sweeping;
    await this.fixed?.stop();
    await this.elector.stop().catch(() => {});
    this.webhook?.stop(true);
    this.health?.stop(true);
  }
}
