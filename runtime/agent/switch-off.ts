// Switching off (policy spec.enabled: false), the agent's side, in both IP modes. The mode
// drains the cloud side (NodeDrain): shared mode's pool gives its IPs and ENIs back
// (pool-drain.ts), fixed mode waits for the cluster controller to give the node's ENI back
// (fixed-drain.ts); new pods are refused meanwhile. Once the mode says the node is empty, this
// module removes the rest of vpccni from the node: leftovers in the kernel, the sysctls it
// changed, its CNI configuration (mixed mode: the previous one applies again); then it reports
// the Node condition VpccniDrained=True and a `Drained` Event. The agent stays up, ready and
// idle, until the policy is deleted from Git. Progress is kept in the store (meta
// `switch-off`), so a restarted agent carries on where the last one stopped.
import type { VpcCniPolicy } from "../../schema/index.ts";
import { DRAINED_CONDITION } from "../../schema/names.ts";
import type { KubePort, NodeCondition } from "../kube/client.ts";
import type { DataPlane } from "../net/types.ts";
import { removeConflist } from "./cni-conf.ts";
import type { Logger } from "./log.ts";
import type { NodeStore } from "./store.ts";

/** meta `switch-off`: absent (switched on), "draining", or "drained". */
export const SWITCH_OFF_KEY = "switch-off";
const RETRY_MS = 10_000;

/** The mode's side of the drain: what the node still holds in the cloud, as the agent sees it. */
export interface NodeDrain {
  /** vpccni pods the node still serves (for the log). */
  pods(): number;
  /** In memory and cheap: no pod, no IP and no ENI left as far as the agent knows. */
  empty(): boolean;
  /**
   * The last look before the node is cleaned up (cloud reads; the mode's own last steps).
   * null: not empty after all; the mode has started on what is left and calls `changed()`
   * again. Otherwise what it did, for the log.
   */
  confirm(): Promise<Record<string, unknown> | null>;
}

export interface SwitchOffDeps {
  node: string;
  policy: () => VpcCniPolicy;
  drain: NodeDrain;
  store: NodeStore;
  dataPlane: DataPlane;
  kube: KubePort | null;
  log: Logger;
  /** The node's CNI folder as the agent sees it; undefined: the conflist is left (logged). */
  cniConfDir?: string;
}

/** Why no new pod gets an IP on `node` (the CNI error's text), or null while vpccni is on. Both IP modes. */
export function switchOffRefusal(policy: VpcCniPolicy, node: string): string | null {
  if (policy.spec.enabled !== false) return null;
  const mixed =
    policy.spec.mode === "mixed"
      ? "; a pod without the tke.cloud.tencent.com/networks: tke-route-eni annotation gets the node's other CNI"
      : "";
  return `vpccni is being switched off: policy ${policy.metadata.name} sets spec.enabled: false, so node ${node} gives no new pod a VPC IP (pods already running keep theirs until they are deleted)${mixed}`;
}

/** Switched off and drained before (a restarted agent): the kernel is left as it was put back. */
export function drainedBefore(policy: VpcCniPolicy, store: NodeStore): boolean {
  return policy.spec.enabled === false && store.meta(SWITCH_OFF_KEY) === "drained";
}

export class SwitchOff {
  private finishing = false;
  /** This process cleaned the node up (a restarted agent does it once more: it is idempotent). */
  private cleaned = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private wanted: NodeCondition | undefined;
  private sent: NodeCondition | undefined;
  private sending: Promise<void> = Promise.resolve();
  private conditionTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly deps: SwitchOffDeps) {}

  private get off(): boolean {
    return this.deps.policy().spec.enabled === false;
  }

  /** Switched off and drained: the node holds nothing of vpccni's; maintenance stays idle. */
  get done(): boolean {
    return this.off && this.deps.store.meta(SWITCH_OFF_KEY) === "drained";
  }

  /** Why no new pod gets an IP (the CNI error's text), or null while vpccni is on. */
  refusal(): string | null {
    return switchOffRefusal(this.deps.policy(), this.deps.node);
  }

  /** After start and after every policy reload. */
  policyApplied(): void {
    const { store, log } = this.deps;
    const phase = store.meta(SWITCH_OFF_KEY);
    if (this.off) {
      if (phase === null) {
        store.setMeta(SWITCH_OFF_KEY, "draining");
        log.info("switching off: new pods are refused; the node drains once its last vpccni pod is gone", {
          pods: this.deps.drain.pods(),
        });
        this.event("Normal", "Draining", `${this.refusal()}; the node drains once its last vpccni pod is gone`);
      }
      if (phase !== "drained")
        this.condition({
          type: DRAINED_CONDITION,
          status: "False",
          reason: "Draining",
          message: `policy ${this.deps.policy().metadata.name} sets spec.enabled: false; new vpccni pods are refused, and the node releases its IPs and ENIs once its last vpccni pod is gone`,
        });
      this.changed();
      return;
    }
    this.cleaned = false;
    if (phase === null) return;
    // Switched on again: the pool grows again, the repair loop sets the sysctls again, and
    // install-cni puts the conflist back when the DaemonSet rolls (the policy digest changed).
    store.setMeta(SWITCH_OFF_KEY, null);
    log.info("switched on again", { was: phase });
    this.condition({
      type: DRAINED_CONDITION,
      status: "False",
      reason: "Enabled",
      message: `policy ${this.deps.policy().metadata.name} sets spec.enabled: true again`,
    });
  }

  /** After every change of what the node holds (pool, attachments, the node's ENI): the moment it is empty, the rest goes. */
  changed(): void {
    if (!this.off || this.finishing || this.stopped || this.cleaned || !this.deps.drain.empty()) return;
    this.finishing = true;
    void this.finish().finally(() => {
      this.finishing = false;
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.conditionTimer);
  }

  private async finish(): Promise<void> {
    const { dataPlane, drain, store, log } = this.deps;
    try {
      const cloud = await drain.confirm();
      // Not empty after all, or switched on again meanwhile: the node keeps what it has.
      if (cloud === null || !this.off || !drain.empty()) return;
      // The kernel: whatever DEL and the ENI teardowns left, and the sysctls as they were.
      const removed = await dataPlane.removeLeftovers();
      const restored = await dataPlane.restoreSysctls(store.sysctlChanges());
      store.forgetSysctls();
      // The runtime's configuration: vpccni is no longer called.
      const conf = this.deps.cniConfDir === undefined ? null : removeConflist(this.deps.cniConfDir);
      if (conf === null)
        log.warn("switching off: the agent has no --cni-conf-dir, so vpccni's conflist stays in the node's CNI folder");
      const first = store.meta(SWITCH_OFF_KEY) !== "drained";
      store.setMeta(SWITCH_OFF_KEY, "drained");
      const summary = this.summary(restored.length, conf);
      log.info("switched off: the node holds nothing of vpccni's", {
        ...cloud,
        kernel: removed,
        sysctls: restored.map((c) => `${c.key}: ${c.before} -> ${c.after}`),
        cniConf: conf ?? "left in place",
      });
      this.cleaned = true;
      if (first) this.event("Normal", "Drained", summary);
      this.condition({ type: DRAINED_CONDITION, status: "True", reason: "Drained", message: summary });
    } catch (error) {
      log.warn("switching off: cleaning up the node failed; retrying", { error: (error as Error).message });
      if (!this.stopped) this.retry = setTimeout(() => this.changed(), RETRY_MS);
    }
  }

  private summary(sysctls: number, conf: ReturnType<typeof removeConflist> | null): string {
    const policy = this.deps.policy();
    const cni =
      conf === null
        ? "its CNI configuration was left in place (no --cni-conf-dir)"
        : conf.restored !== null
          ? `removed its CNI configuration and put the node's previous one back as ${conf.restored}`
          : policy.spec.mode === "mixed"
            ? "removed its CNI configuration, so the node's previous one applies again"
            : "removed its CNI configuration";
    return `policy ${policy.metadata.name} sets spec.enabled: false and node ${this.deps.node} has no vpccni pod left: it holds no secondary IP and no ENI, removed its rules and route tables, put back ${sysctls} sysctl(s) it had changed, and ${cni}; the policy may now be deleted from Git`;
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    this.deps.kube
      ?.nodeEvent(this.deps.node, type, reason, message.slice(0, 1000))
      .catch((e: unknown) => this.deps.log.warn("could not record an Event", { reason, error: (e as Error).message }));
  }

  /**
   * The condition is the node's answer to "may the policy go?": retried until it is set, and
   * always the latest one (a retry never sends a condition a newer one replaced).
   */
  private condition(c: NodeCondition): void {
    this.wanted = { ...c, message: c.message.slice(0, 1000) };
    clearTimeout(this.conditionTimer);
    this.sendCondition();
  }

  /** One patch at a time, so that an older condition never lands after a newer one. */
  private sendCondition(): void {
    const kube = this.deps.kube;
    if (!kube) return;
    this.sending = this.sending.then(async () => {
      const c = this.wanted;
      if (!c || c === this.sent || this.stopped) return;
      try {
        await kube.setNodeCondition(this.deps.node, c);
        this.sent = c;
      } catch (e) {
        this.deps.log.warn("could not set the Node condition; retrying", {
          condition: `${c.type}=${c.status}`,
          error: (e as Error).message,
        });
        clearTimeout(this.conditionTimer);
        if (!this.stopped) this.conditionTimer = setTimeout(() => this.sendCondition(), RETRY_MS);
      }
    });
  }

  /** Waits for the condition patch in flight (tests, shutdown). */
  async flush(): Promise<void> {
    await this.sending;
  }
}
