// The read actions. They read `ctx.view`, which is a stale snapshot when a staleMs fault is set.
import { ApiError, int, list, required, strList } from "../errors.ts";
import { ENI_FILTERS, eniMatches, eniView, readFilters, SUBNET_FILTERS, subnetMatches, subnetView } from "../views.ts";
import { getInstance, type Handler } from "./context.ts";

function filterList(p: Record<string, unknown>): unknown[] | undefined {
  const f = list(p, "Filters", Number.MAX_SAFE_INTEGER);
  if (f && f.length > 10)
    throw new ApiError("LimitExceeded.NumberOfFilters", `Filters has ${f.length} entries; allowed: at most 10`);
  return f;
}

function page<T>(items: T[], offset: number, limit: number): T[] {
  return items.slice(offset, offset + limit);
}

export const describeNetworkInterfaces: Handler = (ctx, p) => {
  const ids = strList(p, "NetworkInterfaceIds", 100);
  const rawFilters = filterList(p);
  if (ids && rawFilters)
    throw new ApiError("InvalidParameter.Coexist", "NetworkInterfaceIds and Filters cannot be used together.");
  const filters = readFilters(rawFilters, ENI_FILTERS);
  const offset = int(p, "Offset", 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = int(p, "Limit", 1, 100) ?? 20;
  let enis = Object.values(ctx.view).sort(
    (a, b) => a.createdTime.localeCompare(b.createdTime) || a.eniId.localeCompare(b.eniId),
  );
  if (ids) {
    const missing = ids.filter((id) => !ctx.view[id]);
    if (missing.length > 0 && ctx.state.settings.unknownIdInDescribe === "ResourceNotFound") {
      throw new ApiError("ResourceNotFound", `The network interface '${missing[0]}' does not exist.`);
    }
    enis = enis.filter((e) => ids.includes(e.eniId));
  }
  enis = enis.filter((e) => eniMatches(e, filters));
  return { TotalCount: enis.length, NetworkInterfaceSet: page(enis, offset, limit).map(eniView) };
};

export const describeSubnets: Handler = (ctx, p) => {
  const ids = strList(p, "SubnetIds", 100);
  const rawFilters = filterList(p);
  if (ids && rawFilters)
    throw new ApiError("InvalidParameter.Coexist", "SubnetIds and Filters cannot be used together.");
  const filters = readFilters(rawFilters, SUBNET_FILTERS);
  const offset = int(p, "Offset", 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const limit = int(p, "Limit", 1, 100) ?? 20;
  let subnets = ctx.state.subnets.filter((s) => subnetMatches(s, filters));
  if (ids) {
    const missing = ids.filter((id) => !ctx.state.subnets.some((s) => s.subnetId === id));
    if (missing.length > 0 && ctx.state.settings.unknownIdInDescribe === "ResourceNotFound") {
      throw new ApiError("ResourceNotFound", `The subnet '${missing[0]}' does not exist.`);
    }
    subnets = subnets.filter((s) => ids.includes(s.subnetId));
  }
  return { TotalCount: subnets.length, SubnetSet: page(subnets, offset, limit).map((s) => subnetView(s, ctx.view)) };
};

export const describeNetworkInterfaceLimit: Handler = (ctx, p) => {
  const inst = getInstance(ctx.state, required(p, "InstanceId"), "InvalidInstanceId.NotFound");
  const type = ctx.state.instanceTypes[inst.instanceType];
  if (!type) throw new ApiError("InternalError", `instance type ${inst.instanceType} has no quota entry`);
  // The docs do not say whether the counts include the primary ENI / primary IP; a setting picks.
  const less = ctx.state.settings.limitsIncludePrimary ? 0 : 1;
  return {
    EniQuantity: type.eniQuota - less,
    EniPrivateIpAddressQuantity: type.ipsPerEni - less,
    ExtendEniQuantity: 0,
    ExtendEniPrivateIpAddressQuantity: 0,
    SubEniQuantity: 0,
    SubEniPrivateIpAddressQuantity: 0,
  };
};

export const describeVpcTaskResult: Handler = (ctx, p) => {
  const taskId = required(p, "TaskId");
  const task = ctx.state.tasks[taskId];
  if (!task)
    throw new ApiError(
      "ResourceNotFound",
      `The task '${taskId}' does not exist (tasks are kept for an hour after they end).`,
    );
  return { Status: task.status, Output: task.output ?? "", Result: [] };
};
