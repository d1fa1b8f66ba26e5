// A Workspace's PostgreSQL boundary under Pulumi mocks: the one WorkspaceBoundary resource that
// replaced the WorkspaceDatabase component (roles, schema, credentials table and every grant).
// What the provider does with it is provider/resources/boundary.ts's business (test/components/
// native-provider/boundary.test.ts without a database, test/e2e/provider-kinds.test.ts with one).
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { deriveAppPassword } from "../../components/credentials-crypto.ts";
import { namesIn, PUBLIC, workspaceGrants, type GrantDescriptor } from "../../components/grants.ts";
import { workspaceNames } from "../../components/naming.ts";
import { WORKSPACE_BOUNDARY_TYPE, WorkspaceBoundary } from "../../components/resources.ts";
import { boundaryKind } from "../../provider/resources/boundary.ts";
import { declaration, deployOrganization, isSecretValue, MASTER_KEY, plainInputs, reveal, SECRET_CONFIG, startMocks, valueOf } from "./mock-harness.ts";

const recorder = await startMocks({ secretConfig: SECRET_CONFIG });
const model = declaration("dev");
const dev = await deployOrganization(recorder, model);
const slugs = model.workspaces.map((w) => w.slug);
const boundaryOf = (slug: string) => dev.named(`acme-${slug}-boundary`);
/** workspaceGrants as the boundary takes them: by id, without the id. */
const grantMap = (slug: string, database: string) => Object.fromEntries(workspaceGrants(workspaceNames("acme", slug), database).map(({ id, ...g }) => [id, g]));

describe("a Workspace's boundary", () => {
  it("is one WorkspaceBoundary per workspace, named ${workspace}-boundary, under the Workspace, through the organization's provider", () => {
    const boundaries = dev.regs.filter((r) => r.type === WORKSPACE_BOUNDARY_TYPE);
    expect(boundaries.map((r) => r.name).sort()).toEqual(slugs.map((s) => `acme-${s}-boundary`).sort());
    for (const slug of slugs) {
      expect(boundaryOf(slug)).toMatchObject({ custom: true, parent: dev.named(`acme-${slug}`).urn, protect: true });
      expect(boundaryOf(slug).provider.startsWith(`${dev.named("acme-provider").urn}::`)).toBe(true);
    }
    for (const w of dev.org.workspaces) expect(w.boundary).toBeInstanceOf(WorkspaceBoundary);
  });

  it("declares the workspace's organization, slug, derived names and the admin connection's database, all in clear", () => {
    for (const slug of slugs) {
      expect(plainInputs(boundaryOf(slug))).toEqual({ organization: "acme", workspace: slug, names: workspaceNames("acme", slug), database: "tenancy", passwordGeneration: "1", connectionLimit: 20, grants: grantMap(slug, "tenancy") });
      // Policies read the names and the database: none of them may arrive as a secret.
      for (const key of ["organization", "workspace", "names", "database", "passwordGeneration", "connectionLimit", "grants"]) expect(isSecretValue(boundaryOf(slug).inputs[key]), `${slug} ${key}`).toBe(false);
    }
    expect(dev.org.workspaces.map((w) => [w.schema, w.appRole])).toEqual(slugs.map((s) => [workspaceNames("acme", s).schema, workspaceNames("acme", s).app]));
  });

  it("takes exactly workspaceGrants as its grants map, keyed by the descriptors' stable ids", () => {
    const grants = boundaryOf("emea-support").inputs.grants as Record<string, unknown>;
    const descriptors = workspaceGrants(workspaceNames("acme", "emea-support"), "tenancy");
    expect(Object.keys(grants).sort()).toEqual(descriptors.map((g) => g.id).sort());
    for (const { id, ...g } of descriptors) expect(grants[id], id).toEqual(g);
    expect(grants["connect-app"]).toEqual({ action: "grant", role: "acme__emea_support__app", on: { kind: "database", database: "tenancy" }, privileges: ["CONNECT"] });
  });

  it("names only its own workspace's roles and schema, and PUBLIC only in revokes", () => {
    for (const slug of slugs) {
      const own = new Set(Object.values(workspaceNames("acme", slug)));
      const others = new Set(slugs.filter((s) => s !== slug).flatMap((s) => Object.values(workspaceNames("acme", s))));
      const grants = plainInputs(boundaryOf(slug)).grants as Record<string, Omit<GrantDescriptor, "id">>;
      for (const [id, g] of Object.entries(grants)) {
        for (const name of namesIn({ ...g, id })) {
          expect(own.has(name), `${slug} ${id} ${name}`).toBe(true);
          expect(others.has(name), `${slug} ${id} ${name}`).toBe(false);
        }
        if (g.role === PUBLIC) expect(g.action, `${slug} ${id}`).toBe("revoke");
      }
    }
  });

  it("passes its inputs as the provider's check would: no failures for any workspace", () => {
    for (const slug of slugs) expect(boundaryKind.check(plainInputs(boundaryOf(slug)) as never), slug).toEqual([]);
  });

  it("never sends the app password: only its generation, the provider derives it from the master key", async () => {
    const sent = JSON.stringify(dev.regs.map((r) => r.inputs));
    for (const slug of slugs) {
      expect(boundaryOf(slug).inputs).not.toHaveProperty("appPassword");
      expect(sent, slug).not.toContain(await deriveAppPassword(MASTER_KEY, "acme", slug));
      expect(dev.org.workspaces.find((x) => x.slug === slug)!.keyGeneration).toBe("1");
    }
  });

  it("sends the same inputs on every run, so an unchanged declaration changes nothing", async () => {
    const again = await deployOrganization(recorder, declaration("dev"));
    for (const slug of slugs) expect(again.named(`acme-${slug}-boundary`).inputs).toEqual(boundaryOf(slug).inputs);
  });

  it("sends no output-only property (outsiders) as an input", () => {
    for (const slug of slugs) expect(Object.keys(boundaryOf(slug).inputs).sort()).toEqual(["connectionLimit", "database", "grants", "names", "organization", "passwordGeneration", "workspace"]);
  });
});
