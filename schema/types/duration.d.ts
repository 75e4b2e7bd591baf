// Generated from schema/duration.ts by `tsc -p schema/tsconfig.types.json`; do not edit.
/** Milliseconds of a duration string, or undefined when it is not one. */
export declare function parseDuration(text: string): number | undefined;
/** The shortest canonical string for a whole number of seconds: 90_000 -> "1m30s". */
export declare function formatDuration(ms: number): string;
export declare const DURATION_PATTERN: string;
