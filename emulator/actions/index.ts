import { ACTIONS, type Action } from "../config.ts";
import { attachNetworkInterface, detachNetworkInterface } from "./attach.ts";
import type { Handler } from "./context.ts";
import {
  describeNetworkInterfaceLimit,
  describeNetworkInterfaces,
  describeSubnets,
  describeVpcTaskResult,
} from "./describe.ts";
import { createNetworkInterface, deleteNetworkInterface } from "./enis.ts";
import { assignPrivateIpAddresses, unassignPrivateIpAddresses } from "./ips.ts";

export const handlers: Record<Action, Handler> = {
  CreateNetworkInterface: createNetworkInterface,
  AttachNetworkInterface: attachNetworkInterface,
  DetachNetworkInterface: detachNetworkInterface,
  DeleteNetworkInterface: deleteNetworkInterface,
  AssignPrivateIpAddresses: assignPrivateIpAddresses,
  UnassignPrivateIpAddresses: unassignPrivateIpAddresses,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  DescribeSubnets: describeSubnets,
  DescribeNetworkInterfaceLimit: describeNetworkInterfaceLimit,
  DescribeVpcTaskResult: describeVpcTaskResult,
};

/** Every action but the Describe* reads changes state (and so runs as an asynchronous task). */
export const MUTATING: ReadonlySet<string> = new Set(ACTIONS.filter((a) => !a.startsWith("Describe")));

/** Actions whose ClientToken makes a repeated call return the first call's answer. */
export const IDEMPOTENT: ReadonlySet<string> = new Set([
  "CreateNetworkInterface",
  "AttachNetworkInterface",
  "DetachNetworkInterface",
  "AssignPrivateIpAddresses",
]);
