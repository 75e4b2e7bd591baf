// CVM instance metadata, one tree per instance under /meta/<instance-id>/latest/meta-data/,
// plain text like the real service at metadata.tencentyun.com. Directory listings put one
// entry per line, sub-directories with a trailing '/'. MACs are lower case here while the API
// prints them upper case (as on CVM): clients must compare them case-insensitively.
import { randomBytes } from "node:crypto";
import { gateway, netmask, parseCidr } from "./cidr.ts";
import type { Cloud } from "./cloud.ts";
import type { EniRec, InstanceRec, State } from "./state.ts";

export const METADATA_PREFIX = "/meta/";

export async function handleMetadata(cloud: Cloud, path: string): Promise<Response> {
  // path: <instance-id>/latest/meta-data/<rest>
  const m = /^([^/]+)\/latest\/meta-data\/?(.*)$/.exec(path);
  if (!m) return notFound();
  const [, instanceId, rest] = m;
  return cloud.exclusive(() => {
    const inst = cloud.state.instances.find((i) => i.instanceId === instanceId);
    if (!inst) return notFound();
    const body = lookup(cloud, inst, rest!.replace(/\/$/, ""));
    return body === undefined ? notFound() : new Response(body, { headers: { "content-type": "text/plain" } });
  });
}

function notFound(): Response {
  return new Response("404 - Not Found", { status: 404 });
}

const ready = (e: EniRec) => e.state === "AVAILABLE" || e.state === "DETACHING";

function lookup(cloud: Cloud, inst: InstanceRec, path: string): string | undefined {
  const { state } = cloud;
  const primary = state.enis[inst.primaryEniId]!;
  const primaryIp = primary.ips.find((i) => i.primary)?.ip ?? "";
  const enis = Object.values(state.enis).filter((e) => e.attachment?.instanceId === inst.instanceId && ready(e));
  const fixed: Record<string, string> = {
    "": "instance-id\nplacement/\nmac\nlocal-ipv4\nnetwork/\ncam/",
    "instance-id": inst.instanceId,
    placement: "region\nzone",
    "placement/region": state.region,
    "placement/zone": inst.zone,
    mac: primary.mac.toLowerCase(),
    "local-ipv4": primaryIp,
    network: "interfaces/",
    "network/interfaces": "macs/",
    "network/interfaces/macs": enis.map((e) => `${e.mac.toLowerCase()}/`).join("\n"),
    cam: "security-credentials/",
    "cam/security-credentials": inst.role,
  };
  if (Object.hasOwn(fixed, path)) return fixed[path];
  const role = /^cam\/security-credentials\/([^/]+)$/.exec(path);
  if (role) return role[1] === inst.role ? JSON.stringify(issueCredentials(cloud, inst)) : undefined;
  const mac = /^network\/interfaces\/macs\/([0-9a-f:]+)(?:\/(.*))?$/i.exec(path);
  if (!mac) return undefined;
  const eni = enis.find((e) => e.mac.toLowerCase() === mac[1]!.toLowerCase());
  return eni ? macEntry(state, eni, mac[2] ?? "") : undefined;
}

/**
 * What the CVM metadata document (document/product/213/4934) lists under
 * network/interfaces/macs/${mac}/, less what needs public addresses, which the emulator does not
 * model (public-ipv4s, and public-ipv4 / public-ipv4-mode per address). It lists no CIDR blocks.
 */
function macEntry(state: State, eni: EniRec, path: string): string | undefined {
  const subnet = state.subnets.find((s) => s.subnetId === eni.subnetId);
  const cidr = parseCidr(subnet?.cidrBlock ?? "0.0.0.0/8");
  const ips = eni.ips.filter((i) => i.state === "AVAILABLE");
  const fields: Record<string, string> = {
    "": "mac\nprimary-local-ipv4\nlocal-ipv4s/\nvpc-id\nsubnet-id",
    mac: eni.mac.toLowerCase(),
    "primary-local-ipv4": eni.ips.find((i) => i.primary)?.ip ?? "",
    "local-ipv4s": ips.map((i) => `${i.ip}/`).join("\n"),
    "vpc-id": eni.vpcId,
    "subnet-id": eni.subnetId,
  };
  if (Object.hasOwn(fields, path)) return fields[path];
  const ip = /^local-ipv4s\/([\d.]+)(?:\/(.*))?$/.exec(path);
  if (!ip || !ips.some((i) => i.ip === ip[1])) return undefined;
  const perIp: Record<string, string> = {
    "": "gateway\nlocal-ipv4\nsubnet-mask",
    gateway: gateway(cidr),
    "local-ipv4": ip[1]!,
    "subnet-mask": netmask(cidr),
  };
  const field = ip[2] ?? "";
  return Object.hasOwn(perIp, field) ? perIp[field] : undefined;
}

/**
 * Temporary credentials of the instance's role: registered with the API so they sign requests,
 * reused while more than half their lifetime remains, dropped from the registry once expired.
 */
function issueCredentials(cloud: Cloud, inst: InstanceRec) {
  const { state } = cloud;
  const nowS = Math.floor(cloud.now() / 1000);
  const ttl = state.settings.tempCredentialTtlSec;
  state.credentials = state.credentials.filter((c) => c.expiresAt === undefined || c.expiresAt > nowS);
  const prefix = `AKIDtmp${inst.instanceId.slice(4)}`;
  let cred = state.credentials.find(
    (c) => c.secretId.startsWith(prefix) && c.expiresAt !== undefined && c.expiresAt - nowS > ttl / 2,
  );
  if (!cred) {
    cred = {
      secretId: prefix + randomBytes(8).toString("hex"),
      secretKey: randomBytes(16).toString("hex"),
      token: randomBytes(24).toString("hex"),
      expiresAt: nowS + ttl,
    };
    state.credentials.push(cred);
    cloud.persist();
  }
  return {
    TmpSecretId: cred.secretId,
    TmpSecretKey: cred.secretKey,
    Token: cred.token,
    ExpiredTime: cred.expiresAt,
    Expiration: new Date(cred.expiresAt! * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
    Code: "Success",
  };
}
