// Builds a large, valid declaration: the fixture for benchmarks (and later for preview and
// policy-pack measurements at scale).
import { dump } from "js-yaml";

export interface GenerateOptions {
  readonly workspaces: number;
  readonly membersPerWorkspace: number;
  /** Directory size; members are drawn from it round-robin. */
  readonly people?: number;
}

export function generateDeclaration({ workspaces, membersPerWorkspace, people = membersPerWorkspace * 40 }: GenerateOptions): string {
  const directory = Array.from({ length: people }, (_, i) => ({
    email: `person${i}@acme.test`, name: `Person ${i}`, ...(i === 0 ? { orgRole: "admin" } : {}),
  }));
  const roles = ["admin", "editor", "viewer"];
  const doc = {
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
      integrations: [{ slug: "slack", provider: "slack", credentialsSecret: `ws${w}SlackToken` }],
      exportProfile: { letterhead: `Workspace ${w}`, accentColour: "#0A84FF", contactBlock: `ws-${w}@acme.test` },
      agents: [{ slug: "writer", name: "Writer" }],
    })),
  };
  // Members in flow style, one per line, as people write them.
  return dump(doc, { flowLevel: 4, lineWidth: -1 });
}
