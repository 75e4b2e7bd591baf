// API errors as the cloud reports them: HTTP 200 with Response.Error {Code, Message}.
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `code` defaults to ResourceNotFound; the VPC API has specific ones for VPCs, instances, security groups. */
export const notFound = (kind: string, id: string, code = "ResourceNotFound") =>
  new ApiError(code, `The ${kind} '${id}' does not exist.`);

/** Readers of request parameters that name the field, the value and what is allowed. */
export function str(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string")
    throw new ApiError("InvalidParameter", `${name} is ${JSON.stringify(v)}; expected a string`);
  return v;
}

export function required(params: Record<string, unknown>, name: string): string {
  const v = str(params, name);
  if (v === undefined || v === "")
    throw new ApiError("MissingParameter", `The request is missing a required parameter \`${name}\`.`);
  return v;
}

/** Integers; the SDK models some (DescribeSubnets Offset/Limit) as strings, so digits in a string count. */
export function int(params: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new ApiError(
      "InvalidParameterValue.Range",
      `${name} is ${JSON.stringify(v)}; allowed: an integer from ${min} to ${max}`,
    );
  }
  return n;
}

export function list<T = unknown>(params: Record<string, unknown>, name: string, max: number): T[] | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new ApiError("InvalidParameter", `${name} is ${JSON.stringify(v)}; expected an array`);
  if (v.length > max)
    throw new ApiError("InvalidParameterValue.LimitExceeded", `${name} has ${v.length} items; allowed: at most ${max}`);
  return v as T[];
}

export function strList(params: Record<string, unknown>, name: string, max: number): string[] | undefined {
  const v = list(params, name, max);
  v?.forEach((x, i) => {
    if (typeof x !== "string")
      throw new ApiError("InvalidParameter", `${name}[${i}] is ${JSON.stringify(x)}; expected a string`);
  });
  return v as string[] | undefined;
}
