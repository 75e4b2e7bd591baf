// VpcApi over tencentcloud-sdk-nodejs (VPC service 2017-03-12). Every mutating call carries a
// ClientToken and is followed by a wait for its task and for Describe to show the result, so
// a caller that gets an answer can rely on it; repeats after lost answers are harmless.
import { Caller, type CallLog, type CallObservation } from "./caller.ts";
import { systemClock, type Clock, type Random } from "./clock.ts";
import { checked, checkedCount } from "./answers.ts";
import { toEni, toSubnet } from "./convert.ts";
import type { NetworkInterface } from "tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_models";
import { CloudError, classify } from "./errors.ts";
import type { RetryPolicy } from "./retry.ts";
import { makeVpcClient, send, type SdkOptions, type VpcAction, type VpcActions, type VpcClient } from "./sdk.ts";
import type { Rate } from "./token-bucket.ts";
import type { AssignRequest, CallOptions, CreateEniRequest, Eni, InstanceLimits, Subnet, VpcApi } from "./types.ts";
import { Waiter, type WaitOptionsInput } from "./waits.ts";

import { TAG_CLUSTER, TAG_CREATED_AT, TAG_CREATED_BY, TAG_NODE } from "../../schema/names.ts";

export { TAG_CLUSTER, TAG_CREATED_AT, TAG_CREATED_BY, TAG_NODE };

export interface TencentVpcApiOptions extends SdkOptions {
  clusterId: string;
  vpcId: string;
  /** Value of the created-by tag (default "vpccni"). */
  createdBy?: string;
  rates?: Record<string, Rate>;
  /** A node agent's budget of mutating calls, all actions together (nodeBudget()); unset: none. */
  mutationBudget?: Rate;
  retry?: Partial<RetryPolicy>;
  waits?: WaitOptionsInput;
  /** Cap of IPs per Assign/Unassign call (the cloud's: 10). */
  maxIpsPerCall?: number;
  clock?: Clock;
  random?: Random;
  log?: CallLog;
  /** Called after every HTTP attempt (metrics: latency and errors by action). */
  observe?: (o: CallObservation) => void;
  /** An SDK client to use instead of one built from the options (tests, bench). */
  client?: VpcClient;
}

export class TencentVpcApi implements VpcApi {
  private readonly sdk: VpcClient;
  private readonly caller: Caller;
  private readonly wait: Waiter;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly maxIps: number;

  constructor(private readonly opts: TencentVpcApiOptions) {
    this.sdk = opts.client ?? makeVpcClient(opts);
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.maxIps = opts.maxIpsPerCall ?? 10;
    this.caller = new Caller({
      clock: this.clock,
      random: this.random,
      retry: opts.retry,
      rates: opts.rates,
      mutationBudget: opts.mutationBudget,
      log: opts.log,
      observe: opts.observe,
    });
    this.wait = new Waiter({
      clock: this.clock,
      options: opts.waits,
      taskStatus: (id) => this.taskStatus(id),
      getEni: (id) => this.getEni(id),
    });
  }

  async instanceLimits(instanceId: string): Promise<InstanceLimits> {
    const action = "DescribeNetworkInterfaceLimit";
    const r = await this.send(action, { InstanceId: instanceId });
    return {
      enis: checkedCount(action, "EniQuantity", r.EniQuantity ?? 0),
      ipsPerEni: checkedCount(action, "EniPrivateIpAddressQuantity", r.EniPrivateIpAddressQuantity ?? 0),
    };
  }

  listEnis(instanceId: string): Promise<Eni[]> {
    return this.describeAll([{ Name: "attachment.instance-id", Values: [instanceId] }]);
  }

  findEnis(query: { tags?: Record<string, string>; subnetId?: string }): Promise<Eni[]> {
    const filters = [{ Name: "vpc-id", Values: [this.opts.vpcId] }];
    if (query.subnetId) filters.push({ Name: "subnet-id", Values: [query.subnetId] });
    for (const [k, v] of Object.entries(query.tags ?? {})) filters.push({ Name: `tag:${k}`, Values: [v] });
    return this.describeAll(filters);
  }

  async getEni(eniId: string): Promise<Eni | undefined> {
    try {
      const r = await this.send("DescribeNetworkInterfaces", { NetworkInterfaceIds: [eniId] });
      const set = r.NetworkInterfaceSet ?? [];
      const i = set.findIndex((n) => n.NetworkInterfaceId === eniId);
      return i < 0 ? undefined : toEni(set[i]!, "DescribeNetworkInterfaces", `NetworkInterfaceSet[${i}]`);
    } catch (e) {
      // The docs leave open whether a deleted ENI is an empty set or ResourceNotFound: both mean gone.
      if (e instanceof CloudError && e.kind === "not-found") return undefined;
      throw e;
    }
  }

  async createEni(req: CreateEniRequest): Promise<Eni> {
    const token = req.clientToken ?? this.newToken();
    const secondary = req.secondaryIps ?? 0;
    const first = Math.min(secondary, this.maxIps);
    const tags = {
      [TAG_CLUSTER]: this.opts.clusterId,
      ...(req.node ? { [TAG_NODE]: req.node } : {}),
      [TAG_CREATED_BY]: this.opts.createdBy ?? "vpccni",
      [TAG_CREATED_AT]: new Date(req.createdAt ?? this.clock.now()).toISOString(),
    };
    const r = await this.send("CreateNetworkInterface", {
      VpcId: this.opts.vpcId,
      SubnetId: req.subnetId,
      NetworkInterfaceName: req.name ?? `vpccni-${req.node ?? this.opts.clusterId}`.slice(0, 60),
      SecurityGroupIds: req.securityGroupIds,
      ...(first > 0 ? { SecondaryPrivateIpAddressCount: first } : {}),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      ClientToken: token,
    });
    const id = r.NetworkInterface?.NetworkInterfaceId;
    if (!id)
      throw new CloudError(
        "transient",
        "CreateNetworkInterface",
        "CreateNetworkInterface answered without NetworkInterfaceId",
        undefined,
        r.RequestId,
      );
    // A create task read SUCCESS is the ENI AVAILABLE: its answer is taken as that, and the
    // next call (the attach) goes without a Describe first, which in a burst was a round trip on
    // each new ENI's critical path. Only a task that cannot be read waits for Describe.
    // An answer short of a field an ENI needs is read again from Describe instead.
    const done = await this.wait.task("CreateNetworkInterface", r.RequestId);
    let eni =
      (done && answeredEni(r.NetworkInterface)) ||
      present(await this.wait.eni("CreateNetworkInterface", id, (e) => e?.state === "AVAILABLE", "AVAILABLE"));
    if (secondary > first) {
      let added: string[] = [];
      try {
        added = await this.assignIps(id, { count: secondary - first, clientToken: `${token}.a` });
      } catch (e) {
        // The ENI exists and carries our tags: hand it back with the IPs it got rather than
        // lose track of it; the caller sees fewer secondaryIps than it asked for.
        const err = classify("AssignPrivateIpAddresses", e);
        this.opts.log?.("created ENI without all its IPs", {
          eni: id,
          kind: err.kind,
          code: err.code,
          requestId: err.requestId,
        });
      }
      // Describe may lag: wait until it shows the added IPs bound, so the answer is consistent.
      const bound = (e: Eni | undefined) =>
        !!e && added.every((ip) => e.ips.some((r) => r.ip === ip && r.state === "AVAILABLE"));
      eni = present(await this.wait.eni("AssignPrivateIpAddresses", id, bound, `holding ${added.join(", ")}`));
    }
    return eni;
  }

  async attachEni(eniId: string, instanceId: string, opts: CallOptions & { attached?: () => void } = {}): Promise<Eni> {
    const action = "AttachNetworkInterface";
    const token = opts.clientToken ?? this.newToken();
    let done = false;
    try {
      const r = await this.send("AttachNetworkInterface", {
        NetworkInterfaceId: eniId,
        InstanceId: instanceId,
        ClientToken: token,
      });
      done = await this.wait.task(action, r.RequestId, "attach");
    } catch (e) {
      // An earlier attempt whose answer was lost may have attached it already: then just wait.
      if (!(e instanceof CloudError && e.code === "UnsupportedOperation.AttachmentAlreadyExists")) throw e;
      const now = await this.getEni(eniId);
      if (now?.attachment?.instanceId !== instanceId) throw e;
    }
    if (done) opts.attached?.();
    return present(
      await this.wait.eni(
        action,
        eniId,
        (e) => e?.state === "AVAILABLE" && e.attachment?.instanceId === instanceId,
        `AVAILABLE and attached to ${instanceId}`,
        "attach",
      ),
    );
  }

  async detachEni(eniId: string, instanceId: string, opts: CallOptions = {}): Promise<void> {
    const action = "DetachNetworkInterface";
    const token = opts.clientToken ?? this.newToken();
    try {
      const r = await this.send("DetachNetworkInterface", {
        NetworkInterfaceId: eniId,
        InstanceId: instanceId,
        ClientToken: token,
      });
      await this.wait.task(action, r.RequestId, "detach");
    } catch (e) {
      if (e instanceof CloudError && e.kind === "not-found") return;
      if (!(e instanceof CloudError && e.kind === "invalid-state")) throw e;
      const now = await this.getEni(eniId);
      if (now && now.attachment?.instanceId === instanceId && now.state !== "DETACHING") throw e;
    }
    await this.wait.eni(
      action,
      eniId,
      (e) => e === undefined || (e.attachment?.instanceId !== instanceId && e.state !== "DETACHING"),
      `detached from ${instanceId}`,
      "detach",
    );
  }

  async deleteEni(eniId: string): Promise<void> {
    const action = "DeleteNetworkInterface";
    try {
      const r = await this.send("DeleteNetworkInterface", { NetworkInterfaceId: eniId });
      await this.wait.task(action, r.RequestId);
    } catch (e) {
      if (e instanceof CloudError && e.kind === "not-found") return;
      if (!(e instanceof CloudError && e.kind === "invalid-state")) throw e;
      // A lost answer: the first attempt is deleting it. Anything else (attached) is the caller's error.
      if ((await this.getEni(eniId))?.state !== "DELETING") throw e;
    }
    await this.wait.eni(action, eniId, (e) => e === undefined, "deleted");
  }

  async assignIps(eniId: string, req: AssignRequest): Promise<string[]> {
    const action = "AssignPrivateIpAddresses";
    const token = req.clientToken ?? this.newToken();
    const calls: { ips?: string[]; count?: number }[] = [];
    const explicit = req.ips ?? [];
    for (let i = 0; i < explicit.length; i += this.maxIps) calls.push({ ips: explicit.slice(i, i + this.maxIps) });
    for (let left = req.count ?? 0; left > 0; left -= this.maxIps) calls.push({ count: Math.min(left, this.maxIps) });
    const out: string[] = [];
    for (const [i, c] of calls.entries()) {
      // One token per call, derived so that a replay of the whole request repeats each call.
      const clientToken = calls.length === 1 ? token : `${token}.${i}`;
      try {
        const r = await this.send(action, {
          NetworkInterfaceId: eniId,
          ...(c.ips
            ? { PrivateIpAddresses: c.ips.map((PrivateIpAddress) => ({ PrivateIpAddress })) }
            : { SecondaryPrivateIpAddressCount: c.count }),
          ClientToken: clientToken,
        });
        const done = await this.wait.task(action, r.RequestId);
        const ips = (r.PrivateIpAddressSet ?? []).map((p, k) =>
          checked(action, `PrivateIpAddressSet[${k}].PrivateIpAddress`, p.PrivateIpAddress, "ipv4"),
        );
        out.push(...ips);
        // Told only when the task read SUCCESS: a task the cloud cannot show (no id, or gone)
        // leaves its IPs to the request's answer, as a bind's are.
        if (done && i < calls.length - 1) req.onCall?.(ips);
      } catch (e) {
        if (out.length === 0) throw e;
        return this.partial(action, eniId, out, e);
      }
    }
    return out;
  }

  async unassignIps(eniId: string, ips: string[]): Promise<string[]> {
    const action = "UnassignPrivateIpAddresses";
    const done: string[] = [];
    for (let i = 0; i < ips.length; i += this.maxIps) {
      const chunk = ips.slice(i, i + this.maxIps);
      try {
        await this.unassignChunk(eniId, chunk);
        done.push(...chunk);
      } catch (e) {
        if (done.length === 0) throw e;
        return this.partial(action, eniId, done, e);
      }
    }
    return done;
  }

  private async unassignChunk(eniId: string, chunk: string[]): Promise<void> {
    const action = "UnassignPrivateIpAddresses";
    try {
      const r = await this.send(action, {
        NetworkInterfaceId: eniId,
        PrivateIpAddresses: chunk.map((PrivateIpAddress) => ({ PrivateIpAddress })),
      });
      await this.wait.task(action, r.RequestId);
    } catch (e) {
      if (!(e instanceof CloudError && e.kind === "not-found")) throw e;
      // Unassign has no ClientToken: after a lost answer the retry finds the IPs gone. Confirm.
      const gone = (x: Eni | undefined) => x === undefined || chunk.every((ip) => !x.ips.some((r) => r.ip === ip));
      await this.wait.eni(action, eniId, gone, `without ${chunk.join(", ")}`).catch(() => {
        throw e;
      });
    }
  }

  async describeSubnets(subnetIds: string[]): Promise<Subnet[]> {
    const out: Subnet[] = [];
    for (let i = 0; i < subnetIds.length; i += 100) {
      const ids = subnetIds.slice(i, i + 100);
      const r = await this.send("DescribeSubnets", { SubnetIds: ids, Limit: "100" });
      out.push(...(r.SubnetSet ?? []).map((s, k) => toSubnet(s, "DescribeSubnets", `SubnetSet[${k}]`)));
    }
    return out;
  }

  private async describeAll(filters: { Name: string; Values: string[] }[]): Promise<Eni[]> {
    const out: Eni[] = [];
    for (let offset = 0; ; offset += 100) {
      const r = await this.send("DescribeNetworkInterfaces", { Filters: filters, Offset: offset, Limit: 100 });
      const page = r.NetworkInterfaceSet ?? [];
      out.push(...page.map((n, k) => toEni(n, "DescribeNetworkInterfaces", `NetworkInterfaceSet[${k}]`)));
      if (page.length < 100 || out.length >= (r.TotalCount ?? 0)) return out;
    }
  }

  private async taskStatus(taskId: string): Promise<string | undefined> {
    try {
      const r = await this.send("DescribeVpcTaskResult", { TaskId: taskId });
      return r.Status;
    } catch (e) {
      if (classify("DescribeVpcTaskResult", e).kind === "not-found") return undefined;
      throw e;
    }
  }

  /** One rate-limited, retried SDK call with a deadline. */
  private send<A extends VpcAction>(action: A, req: VpcActions[A][0]): Promise<VpcActions[A][1]> {
    return this.caller.call(action, () => send(this.sdk, action, req, this.opts.requestTimeoutMs ?? 10_000));
  }

  /** A multi-call request that failed part-way: report what was done, log why the rest was not. */
  private partial(action: string, eniId: string, done: string[], e: unknown): string[] {
    const err = classify(action, e);
    this.opts.log?.("request done in part", {
      action,
      eni: eniId,
      done: done.length,
      kind: err.kind,
      code: err.code,
      requestId: err.requestId,
    });
    return done;
  }

  private newToken(): string {
    let s = "";
    for (let i = 0; i < 4; i++)
      s += Math.floor(this.random() * 0x100000000)
        .toString(16)
        .padStart(8, "0");
    return s;
  }
}

/** The waits above only return once their predicate saw an ENI. */
function present(eni: Eni | undefined): Eni {
  if (!eni) throw new Error("unreachable: wait returned without an ENI");
  return eni;
}

/** The ENI a create answered, its task succeeded: AVAILABLE, with the IPs it was created with. */
export function answeredEni(n: NetworkInterface | undefined): Eni | undefined {
  if (!n) return undefined;
  try {
    const eni = toEni(n, "CreateNetworkInterface", "NetworkInterface");
    return { ...eni, state: "AVAILABLE", ips: eni.ips.map((ip) => ({ ...ip, state: "AVAILABLE" })) };
  } catch {
    return undefined;
  }
}
