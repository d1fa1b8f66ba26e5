// What a workspace owns alone: integrations and their credentials, agents and their style
// memory, its export profile.
import { HEX_COLOUR, SECRET_NAME } from "../../config/formats.ts";
import { looksLikeSecret } from "../../config/secrets.ts";
import { defineRule, quote, Severity } from "./types.ts";

export const integrationCredentialsScoped = defineRule({
  id: "integration-credentials-scoped",
  description: "Checks that integration credentials are named Pulumi secrets (never literal tokens), unique per integration slug in a workspace, and never shared between workspaces.",
  severity: Severity.Error,
  owns: ["workspaces.*.integrations.*.credentialsSecret"],
  *check({ model }) {
    const owner = new Map<string, string>();
    for (const [w, ws] of model.workspaces.entries()) {
      const slugs = new Set<string>();
      for (const [i, integration] of ws.integrations.entries()) {
        const at = ["workspaces", w, "integrations", i];
        const name = integration.credentialsSecret;
        if (slugs.has(integration.slug)) yield { path: [...at, "slug"], message: `integration slug ${quote(integration.slug)} must be unique in workspace ${quote(ws.slug)}` };
        slugs.add(integration.slug);
        // Never quote the value here: it may be the very credential we refuse to print.
        const literal = looksLikeSecret(name);
        if (literal) {
          yield { path: [...at, "credentialsSecret"], message: `credentialsSecret of integration ${quote(integration.slug)} in workspace ${quote(ws.slug)} ${literal.reason} and looks like a literal credential; store it with \`pulumi config set --secret credentials:<name>\` and put the name here (value not shown)` };
          continue;
        }
        if (!SECRET_NAME.test(name)) {
          yield { path: [...at, "credentialsSecret"], message: `credentialsSecret of integration ${quote(integration.slug)} in workspace ${quote(ws.slug)} must be a Pulumi config key name like "emeaSlackToken" or "acme:emeaSlackToken" (value not shown)` };
          continue;
        }
        const other = owner.get(name);
        if (other !== undefined && other !== ws.slug) {
          yield { path: [...at, "credentialsSecret"], message: `secret ${quote(name)} of integration ${quote(integration.slug)} is already used by workspace ${quote(other)}; credentials must not be shared between workspaces` };
        } else owner.set(name, ws.slug);
      }
    }
  },
});

export const agentIsolated = defineRule({
  id: "agent-isolated",
  description: "Checks that agent slugs are unique in their workspace and that no agent draws style memory from another workspace.",
  severity: Severity.Error,
  owns: ["workspaces.*.agents.*.styleMemoryFrom"],
  *check({ model }) {
    const agentsOf = new Map(model.workspaces.map((ws) => [ws.slug, new Set(ws.agents.map((a) => a.slug))]));
    // Per agent slug, the first two workspace slugs (in declaration order) having it: enough to
    // name another workspace for any violation without scanning every workspace again.
    const holders = new Map<string, string[]>();
    for (const [slug, agents] of agentsOf) {
      for (const agent of agents) {
        const list = holders.get(agent);
        if (!list) holders.set(agent, [slug]);
        else if (list.length < 2) list.push(slug);
      }
    }
    for (const [w, ws] of model.workspaces.entries()) {
      const seen = new Set<string>();
      for (const [a, agent] of ws.agents.entries()) {
        if (seen.has(agent.slug)) yield { path: ["workspaces", w, "agents", a, "slug"], message: `agent slug ${quote(agent.slug)} must be unique in workspace ${quote(ws.slug)}` };
        seen.add(agent.slug);
        const from = agent.styleMemoryFrom;
        if (from === undefined || agentsOf.get(ws.slug)!.has(from)) continue;
        const elsewhere = (holders.get(from) ?? []).filter((slug) => slug !== ws.slug);
        yield {
          path: ["workspaces", w, "agents", a, "styleMemoryFrom"],
          message: elsewhere.length > 0
            ? `agent ${quote(agent.slug)} in workspace ${quote(ws.slug)} must not draw style memory from ${quote(from)} of workspace ${quote(elsewhere[0])}: style memory never crosses workspaces`
            : `agent ${quote(agent.slug)} in workspace ${quote(ws.slug)} draws style memory from ${quote(from)}, which must be an agent of the same workspace`,
        };
      }
    }
  },
});

export const exportProfileValid = defineRule({
  id: "export-profile-valid",
  description: "Checks that a workspace's export profile has a #RRGGBB accent colour and non-empty letterhead and contact block.",
  severity: Severity.Error,
  owns: ["workspaces.*.exportProfile.**"],
  *check({ model }) {
    for (const [w, ws] of model.workspaces.entries()) {
      const profile = ws.exportProfile;
      if (!profile) continue;
      const at = ["workspaces", w, "exportProfile"];
      if (!HEX_COLOUR.test(profile.accentColour)) yield { path: [...at, "accentColour"], message: `accentColour of workspace ${quote(ws.slug)} must be #RRGGBB; got ${quote(profile.accentColour)}` };
      for (const field of ["letterhead", "contactBlock"] as const) {
        if (profile[field].trim() === "") yield { path: [...at, field], message: `${field} of workspace ${quote(ws.slug)} must not be empty` };
      }
    }
  },
});
