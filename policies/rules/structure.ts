// Where workspaces may live and what makes them unique.
import { defineRule, quote, Severity } from "./types.ts";

export const workspaceRequiresOrganization = defineRule({
  id: "workspace-requires-organization",
  description: "Checks that workspaces exist only under the stack's top-level organization.",
  severity: Severity.Error,
  owns: ["organization"],
  *check({ model }) {
    if (model.organization || model.workspaces.length === 0) return;
    const slugs = model.workspaces.map((ws) => ws.slug);
    yield {
      path: ["organization"],
      message: `workspaces ${slugs.map(quote).join(", ")} must live under an organization; add a top-level "organization" block`,
    };
  },
});

export const noNestedWorkspaces = defineRule({
  id: "no-nested-workspaces",
  description: "Checks that no workspace contains workspaces: they live only directly under the organization.",
  severity: Severity.Error,
  owns: ["workspaces.*.workspaces.**"],
  *check({ model }) {
    for (const [i, ws] of model.workspaces.entries()) {
      if (ws.nested === undefined) continue;
      yield {
        path: ["workspaces", i, "workspaces"],
        message: `workspace ${quote(ws.slug)} must not contain workspaces; move them to the top-level "workspaces" list`,
      };
    }
  },
});

export const uniqueWorkspaceSlug = defineRule({
  id: "unique-workspace-slug",
  description: "Checks that every workspace slug is unique in the organization.",
  severity: Severity.Error,
  *check({ model }) {
    const first = new Map<string, number>();
    for (const [i, ws] of model.workspaces.entries()) {
      const seen = first.get(ws.slug);
      if (seen === undefined) first.set(ws.slug, i);
      else yield { path: ["workspaces", i, "slug"], message: `workspace slug ${quote(ws.slug)} must be unique; already used by workspaces[${seen}]` };
    }
  },
});
