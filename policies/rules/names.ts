// Names derived from slugs must fit PostgreSQL and stay distinct.
import { identifierProblem, MAX_IDENTIFIER_BYTES, workspaceNames } from "../../components/naming.ts";
import { defineRule, quote, Severity } from "./types.ts";

/** What the longest derived name (the owner role, `<schema>__owner`) adds to the schema name. */
const OWNER_SUFFIX = "__owner".length;

export const resourceNamesValid = defineRule({
  id: "resource-names-valid",
  description: "Checks that every name derived from the organization and workspace slugs fits PostgreSQL's 63-byte identifiers and cannot collide with another.",
  severity: Severity.Error,
  *check({ model }) {
    const org = model.organization;
    if (!org) return;
    // Derived names join slugs with "__" (slugs' "-" becomes "_"), so "--" in a slug could make
    // two different slug pairs derive the same name.
    if (org.slug.includes("--")) yield { path: ["organization", "slug"], message: `organization slug ${quote(org.slug)} must not contain "--": derived names use "__" as separator` };
    // Pulumi names children `${workspace}-<part>-...`, so "emea-secrets" next to "emea" could
    // give two resources one name.
    const parts = ["database", "record", "members", "secrets"];
    // One index of slugs (first declaration wins, as a scan in order would find it), then per
    // slug only its own prefixes ending before a "-<part>" are looked up: linear in the total
    // length of the slugs, where comparing every pair of workspaces was quadratic.
    const firstBySlug = new Map<string, number>();
    for (const [w, ws] of model.workspaces.entries()) if (!firstBySlug.has(ws.slug)) firstBySlug.set(ws.slug, w);
    for (const [w, ws] of model.workspaces.entries()) {
      const shadowed = shadowingWorkspace(ws.slug, parts, firstBySlug);
      if (shadowed !== undefined) {
        yield { path: ["workspaces", w, "slug"], message: `workspace slug ${quote(ws.slug)} must not start with another workspace's slug ${quote(model.workspaces[shadowed]!.slug)} followed by one of ${parts.map((p) => `"-${p}"`).join(", ")}: their resource names could collide` };
        continue;
      }
      if (ws.slug.includes("--")) {
        yield { path: ["workspaces", w, "slug"], message: `workspace slug ${quote(ws.slug)} must not contain "--": derived names use "__" as separator` };
        continue;
      }
      const names = workspaceNames(org.slug, ws.slug);
      // The common case in one test: the owner role's name is the longest, so a valid schema
      // name that leaves room for "__owner" means every derived name fits.
      if (names.schema.length + OWNER_SUFFIX <= MAX_IDENTIFIER_BYTES && identifierProblem(names.schema) === undefined) continue;
      const problems = Object.values(names).map(identifierProblem).filter((p) => p !== undefined);
      if (problems.length > 0) {
        yield { path: ["workspaces", w, "slug"], message: `workspace slug ${quote(ws.slug)} makes names PostgreSQL would truncate: ${problems[0]}; shorten the organization or workspace slug` };
      }
    }
  },
});

/**
 * Index of the first workspace whose slug `slug` shadows (`slug` is `<other>-<part>` or starts
 * with `<other>-<part>-`), or undefined.
 */
function shadowingWorkspace(slug: string, parts: readonly string[], firstBySlug: ReadonlyMap<string, number>): number | undefined {
  let best: number | undefined;
  for (const part of parts) {
    const marker = `-${part}`;
    for (let at = slug.indexOf(marker); at !== -1; at = slug.indexOf(marker, at + 1)) {
      const end = at + marker.length;
      if (end !== slug.length && slug[end] !== "-") continue;
      const other = firstBySlug.get(slug.slice(0, at));
      if (other !== undefined && (best === undefined || other < best)) best = other;
    }
  }
  return best;
}
