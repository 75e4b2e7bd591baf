export * from "./types.ts";
export { IprouteDataPlane, type IprouteDataPlaneOptions } from "./dataplane.ts";
export { hostVethName, vethMacs } from "./names.ts";
export type { NetnsTarget } from "./netns.ts";
