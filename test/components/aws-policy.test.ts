import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { arnProblem, KEY_READ_ACTIONS, SECRET_READ_ACTIONS, workspaceReadPolicy } from "../../components/aws-policy.ts";

const slug = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const suffix = fc.stringMatching(/^[A-Za-z0-9]{6}$/);
const account = fc.stringMatching(/^\d{12}$/);
const region = fc.constantFrom("eu-west-1", "us-east-1", "ap-southeast-2");

/** A workspace as AWS would name its things: secrets with random suffixes, a key by UUID. */
const workspace = fc.record({
  org: slug,
  ws: slug,
  region,
  account,
  keyUuid: fc.uuid(),
  integrations: fc.uniqueArray(fc.tuple(slug, suffix), { selector: ([s]) => s, maxLength: 6 }),
}).map(({ org, ws, region, account, keyUuid, integrations }) => ({
  name: `${org}/${ws}`,
  keyArn: `arn:aws:kms:${region}:${account}:key/${keyUuid}`,
  secretArns: integrations.map(([s, sfx]) => `arn:aws:secretsmanager:${region}:${account}:secret:tenancy/${org}/${ws}/${s}-${sfx}`),
}));

const resources = (doc: ReturnType<typeof workspaceReadPolicy>) => doc.Statement.flatMap((s) => s.Resource);
const actions = (doc: ReturnType<typeof workspaceReadPolicy>) => doc.Statement.flatMap((s) => s.Action);

describe("the workspace read policy", () => {
  it("names only its own workspace's secrets and key, never another workspace's", () => {
    fc.assert(fc.property(workspace, workspace, (a, b) => {
      fc.pre(a.name !== b.name && a.keyArn !== b.keyArn);
      const doc = workspaceReadPolicy(a);
      const named = new Set(resources(doc));
      expect(named).toEqual(new Set([...a.secretArns, a.keyArn]));
      for (const foreign of [...b.secretArns, b.keyArn]) expect(named.has(foreign)).toBe(false);
      expect(JSON.stringify(doc)).not.toContain(b.keyArn.split("/")[1]);
    }), { numRuns: 500 });
  });

  it("grants only read actions, each on its own kind of resource, with no wildcard", () => {
    fc.assert(fc.property(workspace, (a) => {
      const doc = workspaceReadPolicy(a);
      expect(new Set(actions(doc))).toEqual(new Set(a.secretArns.length ? [...SECRET_READ_ACTIONS, ...KEY_READ_ACTIONS] : KEY_READ_ACTIONS));
      for (const statement of doc.Statement) {
        expect(statement.Effect).toBe("Allow");
        const service = statement.Action[0]!.split(":")[0];
        for (const action of statement.Action) expect(action.split(":")[0]).toBe(service);
        for (const arn of statement.Resource) expect(arn.split(":")[2]).toBe(service);
      }
      expect(JSON.stringify(doc)).not.toMatch(/\*/);
    }), { numRuns: 300 });
  });

  it("is the same document whatever order the ARNs come in", () => {
    fc.assert(fc.property(workspace, (a) => {
      const reversed = workspaceReadPolicy({ ...a, secretArns: [...a.secretArns].reverse() });
      expect(reversed).toEqual(workspaceReadPolicy(a));
    }));
  });

  it("gives a workspace without integrations only the key statement", () => {
    const doc = workspaceReadPolicy({ keyArn: "arn:aws:kms:eu-west-1:123456789012:key/0b5c7d3e-0000-4000-8000-000000000001", secretArns: [] });
    expect(doc.Statement.map((s) => s.Sid)).toEqual(["DecryptWithWorkspaceKey"]);
  });

  it("refuses wildcards, aliases and ARNs of the wrong service", () => {
    const keyArn = "arn:aws:kms:eu-west-1:123456789012:key/0b5c7d3e-0000-4000-8000-000000000001";
    expect(() => workspaceReadPolicy({ keyArn, secretArns: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenancy/acme/emea*"] })).toThrow(/wildcard/);
    expect(() => workspaceReadPolicy({ keyArn: "arn:aws:kms:eu-west-1:123456789012:alias/tenancy/acme/emea", secretArns: [] })).toThrow(/not a KMS key ARN/);
    expect(() => workspaceReadPolicy({ keyArn, secretArns: [keyArn] })).toThrow(/not a secretsmanager ARN/);
    expect(() => workspaceReadPolicy({ keyArn: "*", secretArns: [] })).toThrow(/not an AWS ARN/);
    expect(arnProblem("arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenancy/acme/emea/slack-AbC123", "secretsmanager")).toBeUndefined();
  });
});
