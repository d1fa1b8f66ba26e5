// How plan sentences name things, and the one place where values are screened before printing.
import type { TenancyModel, Workspace } from "../../config/model.ts";
import { looksLikeSecret } from "../../config/secrets.ts";

/**
 * A value as it may be printed: a string that looks like a credential is replaced by a note
 * saying why (never the value). Every string a plan shows or stores passes through here.
 */
export function safe(value: string): string {
  const look = looksLikeSecret(value);
  return look ? `(hidden: the value ${look.reason})` : value;
}

/** A value in a sentence: numbers grouped, strings as JSON strings, secret-looking ones as a note. */
export function quoted(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "(none)";
  if (typeof value === "number") return value.toLocaleString("en-US");
  const shown = safe(value);
  return shown === value ? JSON.stringify(value) : shown;
}

/** Display names by normalised email, from head first, then base. */
export class Names {
  private readonly people = new Map<string, { email: string; name?: string }>();

  constructor(...models: (TenancyModel | undefined)[]) {
    for (const model of models) {
      for (const p of model?.organization?.people ?? []) {
        if (!this.people.has(p.key)) this.people.set(p.key, { email: p.email, ...(p.name !== undefined ? { name: p.name } : {}) });
      }
    }
  }

  /** `Ana Ruiz (ana@acme.test)`, or the email alone. */
  person(key: string): string {
    const p = this.people.get(key);
    const email = safe(p?.email ?? key);
    return p?.name ? `${safe(p.name)} (${email})` : email;
  }
}

/** `EMEA Support (emea-support)`. */
export function workspaceName(ws: Pick<Workspace, "slug" | "name">): string {
  return ws.name && ws.name !== ws.slug ? `${safe(ws.name)} (${safe(ws.slug)})` : safe(ws.slug);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}
