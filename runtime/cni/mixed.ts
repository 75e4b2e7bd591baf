// Mixed mode's half of each CNI command: the delegate's run for one call, and the record that
// makes an attachment's DEL and CHECK go the way its ADD went.
import type { NetConf } from "./config.ts";
import {
  type Attachment,
  DEFAULT_DELEGATE_CACHE_DIR,
  DELEGATE_RECORD_VERSION,
  type DelegateList,
  type DelegateRecord,
  DelegateRecords,
  findPlugin,
  loadDelegateList,
  type PluginRun,
  runChain,
} from "./delegate.ts";
import type { HostOps } from "./host.ts";
import { CniCode, CniError } from "./protocol.ts";

/** What the plugin prints and exits with; `verbatim`: a delegate's output, written as it came. */
export interface CniOutput {
  stdout: string;
  exitCode: number;
  verbatim?: boolean;
}

function passThrough(run: PluginRun): CniOutput {
  return { stdout: run.stdout, exitCode: run.exitCode ?? 1, verbatim: true };
}

export class Delegation {
  readonly records: DelegateRecords;

  constructor(
    private readonly conf: NetConf,
    private readonly env: Record<string, string | undefined>,
    private readonly host: HostOps,
    private readonly timeoutMs: number,
  ) {
    this.records = new DelegateRecords(host, conf.delegate?.cacheDir ?? DEFAULT_DELEGATE_CACHE_DIR);
  }

  /** Mixed mode: the netconf names a delegate. (Records are honoured in either mode.) */
  get enabled(): boolean {
    return this.conf.delegate !== undefined;
  }

  /** The kept configuration the netconf names. */
  private kept(): Promise<DelegateList> {
    if (!this.conf.delegate)
      throw new CniError(CniCode.InvalidConfig, "this network configuration names no delegate (mixed mode is off)");
    return loadDelegateList(this.host, this.conf.delegate.conflist);
  }

  private chain(command: "ADD" | "DEL" | "CHECK" | "GC" | "STATUS", list: DelegateList, more = {}) {
    return runChain(command, list, {
      env: this.env,
      host: this.host,
      timeoutMs: this.timeoutMs,
      runtimeConfig: this.conf.runtimeConfig,
      ...more,
    });
  }

  /**
   * The record is written before the delegate runs: a DEL after an ADD that failed or was
   * interrupted goes to the delegate as well, which cleans up what it half did.
   */
  async add(a: Attachment, record: DelegateRecord | null): Promise<CniOutput> {
    const list = record?.conflist ?? (await this.kept());
    // A plugin missing from CNI_PATH fails the ADD here, before there is anything to undo.
    for (const p of list.plugins) await findPlugin(this.host, String(p.type), this.env.CNI_PATH);
    await this.records.write(a, { version: DELEGATE_RECORD_VERSION, conflist: list });
    const run = await this.chain("ADD", list);
    if (run.exitCode === 0) {
      // The ADD's result, for CHECK and DEL in the delegate's own format.
      await this.records.write(a, { version: DELEGATE_RECORD_VERSION, conflist: list, result: JSON.parse(run.stdout) });
    }
    return passThrough(run);
  }

  /** `record` null: an attachment the agent did not hold either (e.g. wired before vpccni came). */
  async del(a: Attachment, record: DelegateRecord | null): Promise<CniOutput> {
    const list = record?.conflist ?? (await this.kept());
    const run = await this.chain("DEL", list, { prevResult: record?.result ?? this.conf.prevResult });
    if (run.exitCode === 0) await this.records.remove(a);
    return passThrough(run);
  }

  async check(record: DelegateRecord | null): Promise<CniOutput> {
    const list = record?.conflist ?? (await this.kept());
    return passThrough(await this.chain("CHECK", list, { prevResult: record?.result ?? this.conf.prevResult }));
  }

  /** Records of attachments the runtime no longer lists go, and the delegate collects its own. */
  async gc(network: string, valid: { containerID: string; ifname: string }[]): Promise<CniOutput | undefined> {
    const keep = new Set(valid.map((v) => `${v.containerID}@${v.ifname}`));
    for (const a of await this.records.list(network))
      if (!keep.has(`${a.containerId}@${a.ifname}`)) await this.records.remove({ network, ...a });
    const run = await this.chain("GC", await this.kept(), { validAttachments: valid });
    return run.exitCode === 0 ? undefined : passThrough(run);
  }

  async status(): Promise<CniOutput | undefined> {
    const run = await this.chain("STATUS", await this.kept());
    return run.exitCode === 0 ? undefined : passThrough(run);
  }
}
