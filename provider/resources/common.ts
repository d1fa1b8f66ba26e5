// Small helpers shared by the resource kinds: detailed diffs keyed by stable ids.
import type { DiffKind, Failure } from "../server.ts";
import { UNKNOWN } from "../server.ts";
import { PG_IDENTIFIER } from "../../components/naming.ts";
import { canonical } from "../../components/control-plane/diff.ts";

export { canonical };

/** One entry per key of two maps that differs: `prefix["key"]`. */
export function mapDiff(prefix: string, olds: Readonly<Record<string, unknown>> | undefined, news: Readonly<Record<string, unknown>> | undefined): Record<string, DiffKind> {
  const out: Record<string, DiffKind> = {};
  const a = olds ?? {}, b = news ?? {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const path = `${prefix}[${JSON.stringify(key)}]`;
    if (!Object.hasOwn(a, key)) out[path] = "add";
    else if (!Object.hasOwn(b, key)) out[path] = "delete";
    else if (canonical(a[key]) !== canonical(b[key])) out[path] = "update";
  }
  return out;
}

/** Top-level properties (other than `skip`) whose values differ. */
export function propertyDiff(olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[], replaces: readonly string[] = []): Record<string, DiffKind> {
  const out: Record<string, DiffKind> = {};
  for (const key of keys) {
    if (canonical(olds[key]) !== canonical(news[key])) out[key] = replaces.includes(key) ? "update-replace" : "update";
  }
  return out;
}

export function identifierFailures(values: Readonly<Record<string, unknown>>): Failure[] {
  return Object.entries(values)
    .filter(([, v]) => v !== UNKNOWN && (typeof v !== "string" || !PG_IDENTIFIER.test(v)))
    .map(([property, v]) => ({ property, reason: `invalid PostgreSQL name ${JSON.stringify(v)}` }));
}
