// The metadata client against a fake service (a fetch that answers from a table): what is read,
// what is tried again, and what is refused. role-refresh.test.ts runs it against the emulator.
import { describe, expect, test } from "bun:test";
import { MetadataClient } from "./metadata.ts";

const MAC = "52:54:00:AB:CD:EF";
const mac = MAC.toLowerCase();

/** A service answering `table[path]` (a status, or a text for 200); records the URLs asked. */
function service(table: Record<string, string | number | Error | (string | number | Error)[]>) {
  const asked: string[] = [];
  const fetchFn = (async (url: string) => {
    asked.push(url);
    const path = url.replace("http://md/latest/", "");
    const entry = table[path];
    const answer = Array.isArray(entry) ? entry.shift() : entry;
    if (answer instanceof Error) throw answer;
    if (answer === undefined) return new Response("", { status: 404 });
    if (typeof answer === "number") return new Response("", { status: answer });
    return new Response(answer);
  }) as unknown as typeof fetch;
  return { asked, client: (attempts = 1) => new MetadataClient("http://md/latest", fetchFn, 50, attempts) };
}

const timeout = () => Object.assign(new Error("timed out"), { name: "TimeoutError" });

describe("MetadataClient", () => {
  test("reads a value under the base URL (a missing / is added), trimmed", async () => {
    const md = service({ "placement/region": " ap-guangzhou\n" });
    expect(await md.client().region()).toBe("ap-guangzhou");
    expect(md.asked).toEqual(["http://md/latest/placement/region"]);
  });

  test("a 4xx is an answer, not tried again; a 5xx or no answer is, and the error says why and how often", async () => {
    const md = service({ "instance-id": 404, zone: [503, "ap-guangzhou-3"], a: [timeout(), timeout()] });
    await expect(md.client(3).instanceId()).rejects.toThrow("metadata instance-id: HTTP 404");
    expect(md.asked).toHaveLength(1);
    expect(await md.client(2).get("zone")).toBe("ap-guangzhou-3");
    await expect(md.client(2).get("a")).rejects.toThrow(
      "metadata a at http://md/latest/: no answer within 50 ms (2 attempts)",
    );
    const refused = service({ b: [new Error("connect ECONNREFUSED"), 502] });
    await expect(refused.client(2).get("b")).rejects.toThrow("metadata b at http://md/latest/: HTTP 502 (2 attempts)");
    const down = service({ c: new Error("connect ECONNREFUSED") });
    await expect(down.client(1).get("c")).rejects.toThrow(": connect ECONNREFUSED (1 attempts)");
  });

  test("the ENIs: MACs in lower case, each checked; a listing without its trailing / and blank lines", async () => {
    const dir = `network/interfaces/macs/${mac}/`;
    const md = service({
      mac: MAC,
      "network/interfaces/macs/": `${MAC}/\n\n52:54:00:00:00:01/\n`,
      [`${dir}vpc-id`]: "vpc-abcd1234",
      [`${dir}subnet-id`]: "subnet-abcd1234",
      [`${dir}primary-local-ipv4`]: "10.0.0.5",
      [`${dir}local-ipv4s/`]: "10.0.0.5\n10.0.0.6\n",
      "instance-id": "ins-abcd1234",
      "placement/zone": "ap-guangzhou-3",
    });
    const c = md.client();
    expect(await c.mac()).toBe(mac);
    expect(await c.macs()).toEqual([mac, "52:54:00:00:00:01"]);
    expect(await c.eni(MAC)).toEqual({
      mac,
      vpcId: "vpc-abcd1234",
      subnetId: "subnet-abcd1234",
      primaryIp: "10.0.0.5",
      ips: ["10.0.0.5", "10.0.0.6"],
    });
    expect(await c.instanceId()).toBe("ins-abcd1234");
    expect(await c.zone()).toBe("ap-guangzhou-3");
  });

  test("a value that is not of its format is refused, naming the path and the value", async () => {
    const dir = `network/interfaces/macs/${mac}/`;
    const md = service({
      mac: "not-a-mac",
      "network/interfaces/macs/": `${MAC}/\nzz/\n`,
      [`${dir}vpc-id`]: "vpc-abcd1234",
      [`${dir}subnet-id`]: "subnet-abcd1234",
      [`${dir}primary-local-ipv4`]: "10.0.0.5",
      [`${dir}local-ipv4s/`]: "10.0.0.5\n10.0.0.666\n",
      "instance-id": "i-1; rm -rf /",
    });
    const c = md.client();
    await expect(c.mac()).rejects.toMatchObject({ kind: "invalid-answer" });
    await expect(c.mac()).rejects.toThrow('metadata mac answered mac = "not-a-mac"');
    await expect(c.macs()).rejects.toThrow("network/interfaces/macs/[1]");
    await expect(c.eni(MAC)).rejects.toThrow(`${dir}local-ipv4s/[1] = "10.0.0.666"`);
    await expect(c.eni("zz")).rejects.toThrow('metadata answered mac = "zz"');
    await expect(c.instanceId()).rejects.toThrow("metadata instance-id answered instance-id = ");
  });

  test("the CVM role: its name, then its temporary key pair, each field checked", async () => {
    const creds = { TmpSecretId: "id", TmpSecretKey: "key", Token: "t", ExpiredTime: 1_700_000_000 };
    const md = service({
      "cam/security-credentials/": "\nnode-role\n",
      "cam/security-credentials/node-role": JSON.stringify(creds),
      "cam/security-credentials/empty": JSON.stringify({ ...creds, Token: "" }),
      "cam/security-credentials/nokey": JSON.stringify({ ...creds, TmpSecretKey: undefined }),
      "cam/security-credentials/when": JSON.stringify({ ...creds, ExpiredTime: "soon" }),
    });
    const c = md.client();
    expect(await c.roleName()).toBe("node-role");
    expect(await c.roleCredentials("node-role")).toEqual(creds);
    await expect(c.roleCredentials("empty")).rejects.toThrow(
      "metadata cam/security-credentials/empty: field Token is missing",
    );
    await expect(c.roleCredentials("nokey")).rejects.toThrow("field TmpSecretKey is missing");
    await expect(c.roleCredentials("when")).rejects.toThrow(
      'metadata cam/security-credentials/when: field ExpiredTime is "soon"; expected unix seconds',
    );
    const none = service({ "cam/security-credentials/": "\n" });
    await expect(none.client().roleName()).rejects.toThrow(
      "metadata cam/security-credentials/: no role is bound to this instance",
    );
  });
});
