// Values the cloud answers are checked where they enter the runtime (convert.ts, the metadata
// client): an address, CIDR, MAC or ID that is not what its field allows is refused here and
// never passed on. The data plane writes these values into `ip -batch` lines, and `ip -batch`
// can run programs (`netns exec`): a subnet CIDR or primary IP with a newline in it must not
// get that far, whether the cloud, a proxy or a forged metadata answer put it there.
import { CloudError } from "./errors.ts";

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;

interface Format {
  pattern: RegExp;
  allowed: string;
}

/** Tencent Cloud IDs: a prefix and 8 lowercase letters or digits (as the policy schema's). */
const id = (prefix: string, example: string): Format => ({
  pattern: new RegExp(`^${prefix}-[a-z0-9]{8}$`),
  allowed: `an ID '${prefix}-' and 8 lowercase letters or digits, e.g. ${example}`,
});

export const FORMATS = {
  ipv4: { pattern: new RegExp(`^${IPV4}$`), allowed: "an IPv4 address such as 10.0.1.5" },
  cidr: { pattern: new RegExp(`^${IPV4}/(?:3[0-2]|[12]?[0-9])$`), allowed: "an IPv4 CIDR such as 10.0.1.0/24" },
  /** Either case: the API prints upper case, the metadata service lower case (callers lower it). */
  mac: { pattern: /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/, allowed: "a MAC address such as 20:90:6f:1a:2b:3c" },
  zone: { pattern: /^[a-z]{2,4}-[a-z]+(?:-[a-z0-9]+)?-[0-9]+$/, allowed: "a zone such as ap-guangzhou-3" },
  eniId: id("eni", "eni-2x7k9abc"),
  subnetId: id("subnet", "subnet-2x7k9abc"),
  vpcId: id("vpc", "vpc-4tg8xk2m"),
  instanceId: id("ins", "ins-8x2kq7ab"),
  securityGroupId: id("sg", "sg-8x2kq7ab"),
} satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;

/** The value as a message shows it: JSON-escaped (a newline reads \n), at most 120 characters. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** `value` if it has the format, else a CloudError "invalid-answer" naming action, field, value. */
export function checked(action: string, field: string, value: unknown, format: FormatName): string {
  const f = FORMATS[format];
  if (typeof value === "string" && f.pattern.test(value)) return value;
  throw new CloudError(
    "invalid-answer",
    action,
    `${action} answered ${field} = ${shown(value)}; allowed: ${f.allowed}. The answer is refused, not passed on`,
  );
}

/** A count the cloud answers: an integer >= 0. */
export function checkedCount(action: string, field: string, value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  throw new CloudError(
    "invalid-answer",
    action,
    `${action} answered ${field} = ${shown(value)}; allowed: an integer >= 0. The answer is refused, not passed on`,
  );
}
