// The CAM policy a node's role (or the API key's sub-account) needs: exactly the VPC actions
// the cloud adapter calls, no more. docs/deploy-tke.md shows it; a test keeps the two equal
// and checks the list against the adapter's action table.
import type { VpcAction } from "./sdk.ts";

/** Every action of VpcActions (sdk.ts); the `satisfies` and the test keep the list complete. */
export const VPC_ACTIONS = [
  "AssignPrivateIpAddresses",
  "AttachNetworkInterface",
  "CreateNetworkInterface",
  "DeleteNetworkInterface",
  "DescribeNetworkInterfaceLimit",
  "DescribeNetworkInterfaces",
  "DescribeSubnets",
  "DescribeVpcTaskResult",
  "DetachNetworkInterface",
  "UnassignPrivateIpAddresses",
] as const satisfies readonly VpcAction[];

// Compile-time: an action added to VpcActions but not listed here is a type error.
type Missing = Exclude<VpcAction, (typeof VPC_ACTIONS)[number]>;
const complete: Missing extends never ? true : Missing = true;
void complete;

/** The policy document, in CAM's syntax (version 2.0), as JSON text. */
export function camPolicy(): string {
  const doc = {
    version: "2.0",
    statement: [{ effect: "allow", action: VPC_ACTIONS.map((a) => `vpc:${a}`), resource: ["*"] }],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
