// Pure comparisons of control-plane records, for the provider's diffs and the tests.

export interface MemberChange {
  /** The email comparison key. */
  readonly email: string;
  readonly kind: "add" | "delete" | "update";
  /** The role before; absent for an added member. */
  readonly from?: string;
  /** The role after; absent for a removed member. */
  readonly to?: string;
}

/** JSON with object keys sorted, so two values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Top-level properties whose values differ, sorted; `ignore` lists properties compared elsewhere. */
export function changedProperties(olds: object, news: object, ignore: readonly string[] = []): string[] {
  const before = olds as Record<string, unknown>;
  const after = news as Record<string, unknown>;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !ignore.includes(k) && canonical(before[k]) !== canonical(after[k])).sort();
}

/** Who was added, removed, or changed role; one entry per person, sorted by email. */
export function memberChanges(olds: Readonly<Record<string, string>>, news: Readonly<Record<string, string>>): MemberChange[] {
  const changes: MemberChange[] = [];
  for (const email of new Set([...Object.keys(olds), ...Object.keys(news)])) {
    const from = Object.hasOwn(olds, email) ? olds[email] : undefined;
    const to = Object.hasOwn(news, email) ? news[email] : undefined;
    if (from === to) continue;
    if (from === undefined) changes.push({ email, kind: "add", to });
    else if (to === undefined) changes.push({ email, kind: "delete", from });
    else changes.push({ email, kind: "update", from, to });
  }
  return changes.sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
}

/** `ana@acme.test: viewer -> admin`, `+ ben@acme.test: editor`, `- dev@partner.test: viewer`. */
export function describeMemberChange(change: MemberChange): string {
  switch (change.kind) {
    case "add": return `+ ${change.email}: ${change.to}`;
    case "delete": return `- ${change.email}: ${change.from}`;
    case "update": return `${change.email}: ${change.from} -> ${change.to}`;
  }
}
