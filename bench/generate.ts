// Builds a large, valid declaration: the fixture for benchmarks (validate, rules, preview,
// policy pack). Every dimension grows on its own: workspaces, members per workspace, the
// directory of people, integrations and agents per workspace.
import { dump } from "js-yaml";

export interface GenerateOptions {
  readonly workspaces: number;
  readonly membersPerWorkspace: number;
  /** Directory size; members are drawn from it round-robin. Default: 40 per member slot. */
  readonly people?: number;
  /** Integrations per workspace, each with its own secret name. Default 1. */
  readonly integrationsPerWorkspace?: number;
  /** Agents per workspace; every agent after the first draws style memory from it. Default 1. */
  readonly agentsPerWorkspace?: number;
}

const PROVIDERS = ["slack", "google-drive", "hubspot", "notion"];

/** The declaration as YAML, members in flow style one per line as people write them. */
export function generateDeclaration(options: GenerateOptions): string {
  return dump(generateDocument(options), { flowLevel: 4, lineWidth: -1 });
}

/** The declaration as the plain value the YAML parses to. */
export function generateDocument({
  workspaces, membersPerWorkspace, people = Math.max(membersPerWorkspace * 40, 1), integrationsPerWorkspace = 1, agentsPerWorkspace = 1,
}: GenerateOptions): Record<string, unknown> {
  if (people < membersPerWorkspace) throw new Error(`generate: ${people} people cannot fill ${membersPerWorkspace} distinct members per workspace`);
  const directory = Array.from({ length: people }, (_, i) => ({
    email: `person${i}@acme.test`, name: `Person ${i}`, ...(i === 0 ? { orgRole: "admin" } : {}),
  }));
  const roles = ["admin", "editor", "viewer"];
  return {
    version: 1,
    organization: {
      slug: "acme", name: "Acme at scale",
      billing: { mode: "rollup", plan: "enterprise", creditPool: { monthlyAllowance: 10_000_000 } },
      membership: "multi-workspace",
      roles: { admin: ["workspaces.manage", "members.manage"], editor: ["agents.manage"], viewer: [] },
      people: directory,
    },
    workspaces: Array.from({ length: workspaces }, (_, w) => ({
      slug: `ws-${w}`,
      name: `Workspace ${w}`,
      members: Array.from({ length: membersPerWorkspace }, (_, m) => ({
        email: directory[(w * 7 + m) % people]!.email, role: roles[m === 0 ? 0 : 1 + (m % 2)],
      })),
      integrations: Array.from({ length: integrationsPerWorkspace }, (_, i) => ({
        slug: i === 0 ? "slack" : `integration-${i}`, provider: PROVIDERS[i % PROVIDERS.length],
        credentialsSecret: i === 0 ? `ws${w}SlackToken` : `ws${w}I${i}Token`,
      })),
      exportProfile: { letterhead: `Workspace ${w}`, accentColour: "#0A84FF", contactBlock: `ws-${w}@acme.test` },
      agents: Array.from({ length: agentsPerWorkspace }, (_, a) => (a === 0
        ? { slug: "writer", name: "Writer" }
        : { slug: `agent-${a}`, name: `Agent ${a}`, styleMemoryFrom: "writer" })),
    })),
  };
}
