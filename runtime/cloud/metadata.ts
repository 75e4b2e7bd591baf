// Client of the CVM instance metadata service (plain text under .../latest/meta-data/).
// The base URL is configurable so that tests and the demo point it at the emulator. IDs,
// addresses and MACs are checked as the VPC API's answers are (answers.ts).
import { checked, type FormatName } from "./answers.ts";

export const DEFAULT_METADATA_URL = "http://metadata.tencentyun.com/latest/meta-data/";
export const METADATA_ATTEMPTS = 4;

export interface MetadataEni {
  mac: string;
  vpcId: string;
  subnetId: string;
  primaryIp: string;
  ips: string[];
}

export class MetadataClient {
  private readonly base: string;

  constructor(
    baseUrl: string = DEFAULT_METADATA_URL,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly timeoutMs = 2_000,
    /** Tries of a read that gets no answer or a 5xx, 250 ms apart and doubling (a slow or restarting service). */
    private readonly attempts = METADATA_ATTEMPTS,
  ) {
    this.base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  }

  /**
   * One value. A read that times out, fails to connect or gets a 5xx is tried again: a
   * metadata service slow for a moment must not stop an agent from starting. A 4xx is an
   * answer (the path does not exist) and is not.
   */
  async get(path: string): Promise<string> {
    const url = this.base + path;
    let cause = "";
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await Bun.sleep(250 * 2 ** (attempt - 2));
      let res: Response;
      try {
        res = await this.fetchFn(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        const e = error as Error;
        cause = e.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : e.message;
        continue;
      }
      if (res.status >= 500) {
        cause = `HTTP ${res.status}`;
        continue;
      }
      if (!res.ok) throw new Error(`metadata ${path}: HTTP ${res.status}`);
      return (await res.text()).trim();
    }
    throw new Error(`metadata ${path} at ${this.base}: ${cause} (${this.attempts} attempts)`);
  }

  /** Entries of a directory listing, without the trailing '/' of sub-directories. */
  async list(path: string): Promise<string[]> {
    return (await this.get(path))
      .split("\n")
      .map((l) => l.trim().replace(/\/$/, ""))
      .filter((l) => l !== "");
  }

  /** A value of the format, else a CloudError "invalid-answer" naming the path and the value. */
  async getChecked(path: string, format: FormatName): Promise<string> {
    return checked(`metadata ${path}`, path, await this.get(path), format);
  }

  instanceId(): Promise<string> {
    return this.getChecked("instance-id", "instanceId");
  }

  /** The MAC of the primary ENI, lower case. */
  async mac(): Promise<string> {
    return checked("metadata mac", "mac", await this.get("mac"), "mac").toLowerCase();
  }

  region(): Promise<string> {
    return this.get("placement/region");
  }

  zone(): Promise<string> {
    return this.getChecked("placement/zone", "zone");
  }

  /** MACs of the ENIs the instance sees, lower case. */
  async macs(): Promise<string[]> {
    const path = "network/interfaces/macs/";
    return (await this.list(path)).map((m, i) => checked(`metadata ${path}`, `${path}[${i}]`, m, "mac").toLowerCase());
  }

  async eni(mac: string): Promise<MetadataEni> {
    const dir = `network/interfaces/macs/${checked("metadata", "mac", mac, "mac").toLowerCase()}/`;
    const [vpcId, subnetId, primaryIp, ips] = await Promise.all([
      this.getChecked(dir + "vpc-id", "vpcId"),
      this.getChecked(dir + "subnet-id", "subnetId"),
      this.getChecked(dir + "primary-local-ipv4", "ipv4"),
      this.list(dir + "local-ipv4s/").then((l) =>
        l.map((ip, i) => checked(`metadata ${dir}local-ipv4s/`, `${dir}local-ipv4s/[${i}]`, ip, "ipv4")),
      ),
    ]);
    return { mac: mac.toLowerCase(), vpcId, subnetId, primaryIp, ips };
  }

  async roleName(): Promise<string> {
    const roles = await this.list("cam/security-credentials/");
    if (roles[0] === undefined)
      throw new Error("metadata cam/security-credentials/: no role is bound to this instance");
    return roles[0];
  }

  async roleCredentials(
    role: string,
  ): Promise<{ TmpSecretId: string; TmpSecretKey: string; Token: string; ExpiredTime: number }> {
    const data = JSON.parse(await this.get(`cam/security-credentials/${role}`)) as Record<string, unknown>;
    for (const f of ["TmpSecretId", "TmpSecretKey", "Token"]) {
      if (typeof data[f] !== "string" || data[f] === "")
        throw new Error(`metadata cam/security-credentials/${role}: field ${f} is missing`);
    }
    if (typeof data.ExpiredTime !== "number")
      throw new Error(
        `metadata cam/security-credentials/${role}: field ExpiredTime is ${JSON.stringify(data.ExpiredTime)}; expected unix seconds`,
      );
    return data as { TmpSecretId: string; TmpSecretKey: string; Token: string; ExpiredTime: number };
  }
}
