// The hand-written pack fixtures (fixtures.ts) against what the real components register for the
// same declaration (from-components.ts, under Pulumi mocks): same resources, types, parents,
// protection, secret paths and inputs, secrets and the provider's connection aside. When a
// component changes what it registers, this fails until the fixtures say so too, so the pack's
// tests never judge a stack shape the program no longer builds.
import { describe, expect, it } from "vitest";
import type { Path } from "../../../policies/view.ts";
import { stackModel, stackSpecs } from "./fixtures.ts";
import { componentSpecs, mocksFor } from "./from-components.ts";
import type { Spec } from "./harness.ts";

await mocksFor([stackModel("dev"), stackModel("agency")]);

const PROVIDER = "pulumi:providers:tenancy";

function mask(props: Record<string, unknown>, paths: readonly Path[]): unknown {
  const out = structuredClone(props);
  for (const path of paths) {
    let at = out as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
    at[path[path.length - 1]!] = "<secret>";
  }
  return out;
}

/** What the pack judges of each resource, by name; values that differ by design masked. */
function shape(specs: readonly Spec[]): Record<string, unknown> {
  return Object.fromEntries(specs.map((s) => {
    const secret = [...(s.secret ?? [])].map((p) => JSON.stringify(p)).sort();
    // The provider's connection is the harness's or the fixture's own server: compare its keys.
    const props = s.type === PROVIDER ? Object.keys(s.props ?? {}).sort() : mask(s.props ?? {}, s.secret ?? []);
    return [s.name, { type: s.type, parent: s.parent ?? null, protect: s.protect ?? false, secret, props }];
  }));
}

describe("the pack fixtures", () => {
  for (const stack of ["dev", "agency"] as const) {
    it(`are what the components register for the ${stack} stack (PostgreSQL credentials)`, async () => {
      const model = stackModel(stack);
      expect(shape(stackSpecs(model))).toEqual(shape(await componentSpecs(model)));
    });
  }
});
