// Pods whose wiring is changing: a CNI ADD or DEL (or the pod GC) under way. The data-plane
// repair (maintenance.ts) observes the kernel, then compares it with what the pool holds; a pod
// half wired or half unwired at that moment looks like drift, and "repairing" it would remove
// the rules of a pod just wired, or a veth being set up. The repair leaves every pod this names
// alone for its pass: the next pass, 5 s later, sees it settled.
import { hostVethName } from "../net/names.ts";

export interface LeaveAlone {
  /** IPs whose rules the repair neither adds nor removes. */
  ips: string[];
  /** Host-side veths the repair neither re-creates nor removes. */
  veths: string[];
  /** Attachment keys left out of the desired pods. */
  keys: string[];
}

export class PodActivity {
  private seq = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly touched = new Map<string, { seq: number; ips: Set<string> }>();

  /** Marks the start of a change to `key`'s wiring (ADD, DEL, GC). */
  begin(key: string, ip?: string): void {
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    this.touch(key, ip);
  }

  /** The end of it, whatever the outcome. */
  end(key: string, ip?: string): void {
    const n = (this.inFlight.get(key) ?? 1) - 1;
    if (n > 0) this.inFlight.set(key, n);
    else this.inFlight.delete(key);
    this.touch(key, ip);
  }

  /** An IP the change learnt on the way (the allocation of an ADD). */
  touch(key: string, ip?: string): void {
    const t = this.touched.get(key) ?? { seq: 0, ips: new Set<string>() };
    t.seq = ++this.seq;
    if (ip) t.ips.add(ip);
    this.touched.set(key, t);
  }

  /** Where a repair pass starts: changes after it count for the pass. */
  mark(): number {
    return this.seq;
  }

  /**
   * The pods a pass that started at `mark` must leave alone: in flight now, or changed since.
   * Entries older than `mark` and not in flight are forgotten (marks only grow).
   */
  since(mark: number, ipOf: (key: string) => string | undefined): LeaveAlone {
    const keys: string[] = [];
    const ips = new Set<string>();
    for (const [key, t] of this.touched) {
      if (t.seq <= mark && !this.inFlight.has(key)) {
        this.touched.delete(key);
        continue;
      }
      keys.push(key);
      for (const ip of t.ips) ips.add(ip);
      const now = ipOf(key);
      if (now) ips.add(now);
    }
    const veths = keys.map((key) => {
      const [network = "", containerId = "", ifname = ""] = key.split("/");
      return hostVethName({ network, containerId, ifname });
    });
    return { keys: keys.sort(), ips: [...ips].sort(), veths: veths.sort() };
  }
}
