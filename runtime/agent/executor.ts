// Turns pool decisions into VPC API calls, and a new ENI into a configured link on the node.
// Every call carries a ClientToken derived from the journaled intent, so a replay after a
// crash is answered with what the first call did instead of doing it twice.
import { CloudError, poolErrorKind } from "../cloud/errors.ts";
import type { Eni, Subnet, VpcApi } from "../cloud/types.ts";
import type { DataPlane, EniLink } from "../net/types.ts";
import type { OperationResult } from "../pool/index.ts";
import type { ExecuteHooks, Executor, Intent } from "./driver.ts";
import type { Logger } from "./log.ts";

const LINK_WAIT_ATTEMPTS = 50;
const LINK_WAIT_MS = 200;

export interface NodeIdentity {
  node: string;
  instanceId: string;
  zone: string;
  /** Security groups of the primary ENI; new ENIs get the same ones. */
  securityGroupIds: string[];
}

export class CloudExecutor implements Executor {
  /** ENI id -> its link on the node, for the route table and introspection. */
  readonly links = new Map<string, EniLink & { eniId: string }>();

  constructor(
    private readonly api: VpcApi,
    private readonly dataPlane: DataPlane,
    private readonly identity: NodeIdentity,
    private readonly subnets: () => ReadonlyMap<string, Subnet>,
    private readonly log: Logger,
  ) {}

  async execute(intent: Intent, hooks: ExecuteHooks = {}): Promise<OperationResult> {
    const d = intent.decision;
    try {
      switch (d.action) {
        case "bind": {
          const ips = await this.api.assignIps(d.eni, { count: d.count, clientToken: intent.clientToken });
          return { ok: true, ips };
        }
        case "create-eni":
          return await this.createEni(intent, d.subnet, d.ips, hooks);
        case "release":
          await this.api.unassignIps(d.eni, d.ips);
          return { ok: true };
        case "delete-eni": {
          const link = this.links.get(d.eni);
          if (link) await this.dataPlane.teardownEni(link.mac);
          await this.api.detachEni(d.eni, this.identity.instanceId, {
            clientToken: derived(intent.clientToken, "detach"),
          });
          this.links.delete(d.eni);
          try {
            await this.api.deleteEni(d.eni);
          } catch (error) {
            // Attached nowhere now: the pool must not use it, and deletes it again (rule 5e).
            return { ...failure(error), detached: true };
          }
          return { ok: true };
        }
      }
    } catch (error) {
      return failure(error);
    }
  }

  private async createEni(
    intent: Intent,
    subnetId: string,
    ips: number,
    hooks: ExecuteHooks,
  ): Promise<OperationResult> {
    const eni = await this.api.createEni({
      subnetId,
      securityGroupIds: this.identity.securityGroupIds,
      secondaryIps: ips,
      name: `vpccni-${this.identity.node}`.slice(0, 60),
      node: this.identity.node,
      clientToken: intent.clientToken,
      createdAt: intent.openedAt,
    });
    // The IPs pods asked for while the ENI was made are bound once it is attached, back to back
    // and beside the Describe that confirms the attach and the link's set-up, instead of in
    // binds after this operation (runtime/pool/top-up.ts).
    // Once the link is set up, the IPs bound so far serve pods while the top-up's later calls
    // run (ExecuteHooks.progress): the ENI's first pods are wired meanwhile, not all at its end.
    let linkReady = false;
    const early: string[] = [];
    const progress = (ips: string[]) => {
      if (ips.length === 0) return;
      try {
        hooks.progress?.(eni.id, ips);
      } catch (error) {
        this.log.error("a new ENI's first IPs could not be put in the pool", {
          eni: eni.id,
          error: (error as Error).message,
        });
      }
    };
    const onCall = (ips: string[]) => {
      if (linkReady) progress(ips);
      else early.push(...ips);
    };
    let topUp: Promise<string[]> | undefined;
    const startTopUp = () => {
      if (topUp) return;
      let count = 0;
      try {
        count = hooks.attached?.() ?? 0;
      } catch (error) {
        // the pool's bookkeeping, not the cloud: the ENI and its attach are fine
        this.log.error("the new ENI's top-up could not be planned", { eni: eni.id, error: (error as Error).message });
      }
      topUp = this.topUp(intent, eni.id, count, onCall);
    };
    let attached: Eni;
    try {
      attached = await this.api.attachEni(eni.id, this.identity.instanceId, {
        clientToken: derived(intent.clientToken, "attach"),
        attached: startTopUp,
      });
    } catch (error) {
      // An ENI that cannot be attached is of no use and would leak: give it back now. Should
      // this fail too, the tag-based leak sweep finds it later.
      this.log.warn("attach failed; deleting the new ENI", { eni: eni.id, error: (error as Error).message });
      await this.api
        .deleteEni(eni.id)
        .catch((e: unknown) =>
          this.log.warn("delete of an unattached ENI failed", { eni: eni.id, error: (e as Error).message }),
        );
      throw error;
    }
    startTopUp(); // the attach was an earlier attempt's: no task to read
    // The Describe ran beside the top-up: an IP it showed still PENDING is the top-up's, and is
    // the ENI's only if the top-up says so (a FAILED task takes it back).
    const bound = attached.ips.filter((i) => !i.primary && i.state === "AVAILABLE").map((i) => i.ip);
    const [, added] = await Promise.all([
      this.setupLink(attached).then(() => {
        linkReady = true;
        progress([...bound, ...early]);
      }),
      topUp ?? [],
    ]);
    return { ok: true, eni: attached.id, ips: [...new Set([...bound, ...added])] };
  }

  /**
   * A failed top-up fails nothing: the IPs it did not bind are bound later, as any need. Its
   * ClientToken names the count, so that a replay asking for as many gets the same IPs, and
   * one asking for another count (the pods changed) is a new request, not a refused one.
   */
  private async topUp(
    intent: Intent,
    eniId: string,
    count: number,
    onCall: (ips: string[]) => void,
  ): Promise<string[]> {
    if (count <= 0) return [];
    try {
      return await this.api.assignIps(eniId, {
        count,
        clientToken: derived(intent.clientToken, `fill${count}`),
        onCall,
      });
    } catch (error) {
      this.log.warn("the new ENI's extra IPs were not bound; later binds take them", {
        eni: eniId,
        ips: count,
        error: (error as Error).message,
      });
      return [];
    }
  }

  /** Finds the ENI's link by MAC and fills its route table (table = ifindex + base). */
  async setupLink(eni: Eni): Promise<EniLink> {
    const subnet = this.subnets().get(eni.subnetId);
    if (!subnet) throw new Error(`ENI ${eni.id} is in subnet ${eni.subnetId}, which the policy does not list`);
    const spec = { mac: eni.mac, subnetCidr: subnet.cidr, gateway: gatewayOf(subnet.cidr), primaryIp: eni.primaryIp };
    // The link shows up a moment after the cloud says "attached" (hotplug, udev): wait for it.
    for (let attempt = 1; ; attempt++) {
      try {
        const link = await this.dataPlane.setupEni(spec);
        this.links.set(eni.id, { ...link, eniId: eni.id });
        return link;
      } catch (error) {
        if (attempt >= LINK_WAIT_ATTEMPTS)
          throw new Error(
            `ENI ${eni.id} (${eni.mac}) is attached but its link was not usable after ${attempt} tries: ${(error as Error).message}`,
          );
        await Bun.sleep(LINK_WAIT_MS);
      }
    }
  }
}

/** A ClientToken for a second call of the same intent (attach after create): <= 64 characters. */
function derived(token: string, step: string): string {
  return `${token}-${step}`.slice(0, 64);
}

/** Tencent VPC subnets route through their first address, as every VPC router does. */
export function gatewayOf(cidr: string): string {
  const [base = "0.0.0.0"] = cidr.split("/");
  const n = base.split(".").reduce((acc, part) => acc * 256 + Number(part), 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

function failure(error: unknown): Extract<OperationResult, { ok: false }> {
  if (error instanceof CloudError)
    return { ok: false, error: { kind: poolErrorKind(error.kind), message: error.message } };
  return { ok: false, error: { kind: "transient", message: (error as Error).message ?? String(error) } };
}
