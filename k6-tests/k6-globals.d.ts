// k6's runtime provides `console` (k6 docs: "console" is available in every context), but
// @types/k6 does not declare it and we do not load lib.dom or @types/node (neither exists in k6).
// Type-only: read by tsc, never by k6.
declare var console: {
    log(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
    debug(...args: unknown[]): void;
};
