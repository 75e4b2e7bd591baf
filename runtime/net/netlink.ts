// rtnetlink from the agent itself, for the paths where process starts dominate: wiring a pod
// (CNI ADD) and removing its route and rules (CNI DEL). Every request is synchronous, a few
// microseconds of kernel work with no process started, so the event loop is not held by a spawn
// that waits for a CPU (a 100-pod burst spent a quarter of the agent's time there). libc is
// reached through bun:ffi: socket, setns, send, recv. A socket opened while this thread was in
// another namespace stays in that namespace, so the pod side is configured from here too. Reads,
// a veth's deletion (it waits for an RCU grace period) and the rest stay with iproute2.
import { dlopen, FFIType, read } from "bun:ffi";

const AF_INET = 2;
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
/** O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY: a path that is not a namespace file cannot block the agent. */
const OPEN_FLAGS = 0o2000000 | 0o4000 | 0o400;
const NETLINK_ROUTE = 0;
const CLONE_NEWNET = 0x40000000;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
export const EEXIST = 17;
const ENOENT = 2;
const ESRCH = 3;
const RT_SCOPE_NOWHERE = 255;

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLMSG_ERROR = 2;

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWNEIGH = 28;
const RTM_NEWRULE = 32;
const RTM_DELRULE = 33;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFF_UP = 0x1;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_TABLE = 15;
const RTPROT_BOOT = 3;
const RTN_UNICAST = 1;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_TABLE_MAIN = 254;

const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_PRIORITY = 6;
const FRA_TABLE = 15;
const FR_ACT_TO_TBL = 1;

const NDA_DST = 1;
const NDA_LLADDR = 2;
const NUD_PERMANENT = 0x80;

let libc: ReturnType<typeof load> | undefined;

/** Answers are read into this one buffer: requests are synchronous, never two at a time. */
const answerBuf = Buffer.alloc(65536);

function load() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    open: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    strerror: { args: [FFIType.i32], returns: FFIType.cstring },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

function c() {
  libc ??= load();
  return libc;
}

function errno(): number {
  const p = c().__errno_location();
  return p === null ? 0 : read.i32(p, 0);
}

function describe(code: number): string {
  return String(c().strerror(code));
}

/** A request the kernel refused (or a libc call that failed), with what was asked and why. */
export class NetlinkError extends Error {
  override name = "NetlinkError";
  constructor(
    readonly what: string,
    readonly errno: number,
  ) {
    super(`netlink ${what}: ${describe(errno)} (errno ${errno})`);
  }
}

/** Opens a namespace file (a pod's CNI_NETNS) read-only; the caller closes it. */
export function openNetns(path: string): number {
  const fd = c().open(Buffer.from(`${path}\0`), OPEN_FLAGS);
  if (fd < 0) throw new NetlinkError(`open ${path}`, errno());
  return fd;
}

export function closeFd(fd: number): void {
  c().close(fd);
}

/** Attributes: type, then the payload (a nested list is a nested attribute). */
type Attr = [type: number, value: Buffer | Attr[]];

function attrs(list: Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of list) {
    const payload = Buffer.isBuffer(value) ? value : attrs(value);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(4 + payload.length, 0);
    head.writeUInt16LE(type, 2);
    parts.push(head, payload, Buffer.alloc((4 - (payload.length % 4)) % 4));
  }
  return Buffer.concat(parts);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};
const str = (s: string) => Buffer.from(`${s}\0`);

export function ipBytes(ip: string): Buffer {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`'${ip}' must be an IPv4 address`);
  return Buffer.from(parts);
}

export function macBytes(mac: string): Buffer {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac))
    throw new Error(`MAC '${mac}' must look like 0e:00:0a:00:01:05`);
  return Buffer.from(mac.split(":").map((h) => Number.parseInt(h, 16)));
}

function ifinfo(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(0, 0); // AF_UNSPEC
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

export interface RouteSpec {
  /** Destination prefix; unset: the default route. */
  dst?: { ip: string; len: number };
  gateway?: string;
  oif: number;
  scope: number;
  table: number;
}

/**
 * A NETLINK_ROUTE socket in one network namespace. Requests are answered before send() returns
 * (the kernel handles rtnetlink in the sender's context), so the answer is read without
 * blocking: a missing one is an error, never a hang of the agent.
 */
export class Netlink {
  private seq = 0;
  private closed = false;

  private constructor(private readonly fd: number) {}

  /**
   * A socket in the namespace of `netnsPath` (this thread enters it for the socket() call only,
   * with nothing else running in between), or in this thread's own namespace when unset.
   */
  static open(netnsPath?: string): Netlink {
    if (netnsPath === undefined) return new Netlink(socket());
    const target = openNetns(netnsPath);
    try {
      return Netlink.openIn(target);
    } finally {
      closeFd(target);
    }
  }

  /** As open(), with the namespace as an open file descriptor. */
  static openIn(netnsFd: number): Netlink {
    const self = openNetns("/proc/thread-self/ns/net");
    try {
      if (c().setns(netnsFd, CLONE_NEWNET) !== 0) throw new NetlinkError("setns into the target namespace", errno());
      let fd: number;
      try {
        fd = socket();
      } finally {
        // Back at once: every later syscall of this thread would happen in the target otherwise.
        if (c().setns(self, CLONE_NEWNET) !== 0) {
          // Carrying on would wire the next pod, or answer the next call, from a pod's
          // namespace. The store is durable: a restart is safe, staying here is not.
          process.stderr.write(
            `netlink: could not return to the agent's own network namespace (errno ${errno()}); exiting\n`,
          );
          process.exit(70);
        }
      }
      return new Netlink(fd);
    } finally {
      closeFd(self);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    c().close(this.fd);
  }

  /** veth pair: `name` here, `peer` born in the namespace `peerNsFd`. Fails if `name` exists. */
  linkAddVeth(name: string, mac: string, peer: string, peerMac: string, peerNsFd: number): void {
    const peerInfo = Buffer.concat([
      ifinfo(),
      attrs([
        [IFLA_IFNAME, str(peer)],
        [IFLA_ADDRESS, macBytes(peerMac)],
        [IFLA_NET_NS_FD, u32(peerNsFd)],
      ]),
    ]);
    this.request(
      `link add ${name} type veth peer ${peer}`,
      RTM_NEWLINK,
      NLM_F_CREATE | NLM_F_EXCL,
      Buffer.concat([
        ifinfo(),
        attrs([
          [IFLA_IFNAME, str(name)],
          [IFLA_ADDRESS, macBytes(mac)],
          [
            IFLA_LINKINFO,
            [
              [IFLA_INFO_KIND, Buffer.from("veth")],
              [IFLA_INFO_DATA, [[VETH_INFO_PEER, peerInfo]]],
            ],
          ],
        ]),
      ]),
    );
  }

  /** Sets a link up, and its alias when given. */
  linkUp(name: string, alias?: string): void {
    const list: Attr[] = [[IFLA_IFNAME, str(name)]];
    if (alias !== undefined) list.push([IFLA_IFALIAS, Buffer.from(alias)]);
    this.request(`link set ${name} up`, RTM_NEWLINK, 0, Buffer.concat([ifinfo(0, IFF_UP, IFF_UP), attrs(list)]));
  }

  linkIndex(name: string): number {
    const replies = this.request(
      `link show ${name}`,
      RTM_GETLINK,
      0,
      Buffer.concat([ifinfo(), attrs([[IFLA_IFNAME, str(name)]])]),
    );
    const reply = replies.find((r) => r.type === RTM_NEWLINK);
    if (!reply) throw new Error(`netlink link show ${name}: no link in the answer`);
    return reply.body.readInt32LE(4);
  }

  addrAdd(index: number, ip: string, prefixLen: number): void {
    const head = Buffer.alloc(8);
    head.writeUInt8(AF_INET, 0);
    head.writeUInt8(prefixLen, 1);
    head.writeUInt32LE(index, 4);
    const addr = ipBytes(ip);
    this.request(
      `addr add ${ip}/${prefixLen}`,
      RTM_NEWADDR,
      NLM_F_CREATE | NLM_F_EXCL,
      Buffer.concat([
        head,
        attrs([
          [IFA_LOCAL, addr],
          [IFA_ADDRESS, addr],
        ]),
      ]),
    );
  }

  /** `route add` (replace: `route replace`), protocol boot as iproute2 sets it. */
  routeAdd(r: RouteSpec, replace = false): void {
    const head = Buffer.alloc(12);
    head.writeUInt8(AF_INET, 0);
    head.writeUInt8(r.dst?.len ?? 0, 1);
    head.writeUInt8(r.table < 256 ? r.table : 0, 4);
    head.writeUInt8(RTPROT_BOOT, 5);
    head.writeUInt8(r.scope, 6);
    head.writeUInt8(RTN_UNICAST, 7);
    const list: Attr[] = [];
    if (r.table >= 256) list.push([RTA_TABLE, u32(r.table)]);
    if (r.dst) list.push([RTA_DST, ipBytes(r.dst.ip)]);
    if (r.gateway) list.push([RTA_GATEWAY, ipBytes(r.gateway)]);
    list.push([RTA_OIF, u32(r.oif)]);
    const what = `route ${replace ? "replace" : "add"} ${r.dst ? `${r.dst.ip}/${r.dst.len}` : "default"}${r.gateway ? ` via ${r.gateway}` : ""}`;
    this.request(
      what,
      RTM_NEWROUTE,
      NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL),
      Buffer.concat([head, attrs(list)]),
    );
  }

  /** `rule add [from|to] ip/32 lookup table pref priority`. */
  ruleAdd(r: { src?: string; dst?: string; table: number; priority: number }): void {
    const head = Buffer.alloc(12);
    head.writeUInt8(AF_INET, 0);
    head.writeUInt8(r.dst ? 32 : 0, 1);
    head.writeUInt8(r.src ? 32 : 0, 2);
    head.writeUInt8(r.table < 256 ? r.table : 0, 4);
    head.writeUInt8(FR_ACT_TO_TBL, 7);
    const list: Attr[] = [[FRA_PRIORITY, u32(r.priority)]];
    if (r.dst) list.push([FRA_DST, ipBytes(r.dst)]);
    if (r.src) list.push([FRA_SRC, ipBytes(r.src)]);
    if (r.table >= 256) list.push([FRA_TABLE, u32(r.table)]);
    const what = `rule add${r.src ? ` from ${r.src}/32` : ""}${r.dst ? ` to ${r.dst}/32` : ""} lookup ${r.table} pref ${r.priority}`;
    this.request(what, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, Buffer.concat([head, attrs(list)]));
  }

  /**
   * `route del dst/len table t`, any scope, protocol and type, as iproute2 asks. Returns false
   * when there was no such route.
   */
  routeDel(dst: { ip: string; len: number }, table: number): boolean {
    const head = Buffer.alloc(12);
    head.writeUInt8(AF_INET, 0);
    head.writeUInt8(dst.len, 1);
    head.writeUInt8(table < 256 ? table : 0, 4);
    head.writeUInt8(RT_SCOPE_NOWHERE, 6);
    const list: Attr[] = [[RTA_DST, ipBytes(dst.ip)]];
    if (table >= 256) list.push([RTA_TABLE, u32(table)]);
    return gone(() =>
      this.request(
        `route del ${dst.ip}/${dst.len} table ${table}`,
        RTM_DELROUTE,
        0,
        Buffer.concat([head, attrs(list)]),
      ),
    );
  }

  /**
   * `rule del [from|to] ip/32 pref priority [lookup table]`: without a table, a rule of any
   * table matches. Returns false when there was no such rule.
   */
  ruleDel(r: { src?: string; dst?: string; priority: number; table?: number }): boolean {
    const head = Buffer.alloc(12);
    head.writeUInt8(AF_INET, 0);
    head.writeUInt8(r.dst ? 32 : 0, 1);
    head.writeUInt8(r.src ? 32 : 0, 2);
    if (r.table !== undefined) head.writeUInt8(r.table < 256 ? r.table : 0, 4);
    const list: Attr[] = [[FRA_PRIORITY, u32(r.priority)]];
    if (r.dst) list.push([FRA_DST, ipBytes(r.dst)]);
    if (r.src) list.push([FRA_SRC, ipBytes(r.src)]);
    if (r.table !== undefined && r.table >= 256) list.push([FRA_TABLE, u32(r.table)]);
    const what = `rule del${r.src ? ` from ${r.src}/32` : ""}${r.dst ? ` to ${r.dst}/32` : ""} pref ${r.priority}`;
    return gone(() => this.request(what, RTM_DELRULE, 0, Buffer.concat([head, attrs(list)])));
  }

  /** `neigh replace ip lladdr mac dev index nud permanent`. */
  neighReplace(index: number, ip: string, mac: string): void {
    const head = Buffer.alloc(12);
    head.writeUInt8(AF_INET, 0);
    head.writeInt32LE(index, 4);
    head.writeUInt16LE(NUD_PERMANENT, 8);
    this.request(
      `neigh replace ${ip} lladdr ${mac}`,
      RTM_NEWNEIGH,
      NLM_F_CREATE | NLM_F_REPLACE,
      Buffer.concat([
        head,
        attrs([
          [NDA_DST, ipBytes(ip)],
          [NDA_LLADDR, macBytes(mac)],
        ]),
      ]),
    );
  }

  /** One request with an acknowledgement; returns the messages before it (a GET's answer). */
  private request(what: string, type: number, flags: number, body: Buffer): { type: number; body: Buffer }[] {
    if (this.closed) throw new Error(`netlink ${what}: the socket is closed`);
    const seq = ++this.seq;
    const msg = Buffer.alloc(16 + body.length);
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(type, 4);
    msg.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | flags, 6);
    msg.writeUInt32LE(seq, 8);
    body.copy(msg, 16);
    if (Number(c().send(this.fd, msg, msg.length, 0)) < 0) throw new NetlinkError(what, errno());
    const out: { type: number; body: Buffer }[] = [];
    for (;;) {
      const n = Number(c().recv(this.fd, answerBuf, answerBuf.length, MSG_DONTWAIT));
      if (n < 0) {
        const e = errno();
        throw e === EAGAIN ? new Error(`netlink ${what}: the kernel did not answer`) : new NetlinkError(what, e);
      }
      for (let at = 0; at + 16 <= n; ) {
        const len = answerBuf.readUInt32LE(at);
        if (len < 16 || at + len > n) throw new Error(`netlink ${what}: a malformed answer (length ${len})`);
        const mType = answerBuf.readUInt16LE(at + 4);
        const mSeq = answerBuf.readUInt32LE(at + 8);
        const payload = Buffer.from(answerBuf.subarray(at + 16, at + len));
        at += (len + 3) & ~3;
        if (mSeq !== seq) continue; // an answer to an earlier request that gave up
        if (mType === NLMSG_ERROR) {
          const code = payload.readInt32LE(0);
          if (code !== 0) throw new NetlinkError(what, -code);
          return out;
        }
        out.push({ type: mType, body: payload });
      }
    }
  }
}

/** Runs a delete: true when it removed something, false when there was nothing to remove. */
function gone(del: () => unknown): boolean {
  try {
    del();
    return true;
  } catch (error) {
    if (error instanceof NetlinkError && (error.errno === ENOENT || error.errno === ESRCH)) return false;
    throw error;
  }
}

function socket(): number {
  const fd = c().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw new NetlinkError("socket", errno());
  return fd;
}
