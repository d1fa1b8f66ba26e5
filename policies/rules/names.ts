// Names derived from slugs must fit PostgreSQL and stay distinct.
import { identifierProblem, workspaceNames } from "../../components/naming.ts";
import { defineRule, quote, Severity } from "./types.ts";

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
    for (const [w, ws] of model.workspaces.entries()) {
      const shadowed = model.workspaces.find((other) => other !== ws && parts.some((part) => ws.slug === `${other.slug}-${part}` || ws.slug.startsWith(`${other.slug}-${part}-`)));
      if (shadowed) {
        yield { path: ["workspaces", w, "slug"], message: `workspace slug ${quote(ws.slug)} must not start with another workspace's slug ${quote(shadowed.slug)} followed by one of ${parts.map((p) => `"-${p}"`).join(", ")}: their resource names could collide` };
        continue;
      }
      if (ws.slug.includes("--")) {
        yield { path: ["workspaces", w, "slug"], message: `workspace slug ${quote(ws.slug)} must not contain "--": derived names use "__" as separator` };
        continue;
      }
      const problems = Object.values(workspaceNames(org.slug, ws.slug)).map(identifierProblem).filter((p) => p !== undefined);
      if (problems.length > 0) {
        yield { path: ["workspaces", w, "slug"], message: `workspace slug ${quote(ws.slug)} makes names PostgreSQL would truncate: ${problems[0]}; shorten the organization or workspace slug` };
      }
    }
  },
});
