import { describe, expect, it } from "vitest";
import { checkpointChoice } from "../../cli/checkpoints.ts";

const plan = (...steps: string[][]) => ({
  resourcePlans: Object.fromEntries(steps.map((s, i) => [`urn:pulumi:dev::tenancy::t::r${i}`, { steps: s }])),
});

describe("checkpointChoice", () => {
  it("skips checkpoints for a plan of creates and unchanged resources", () => {
    const choice = checkpointChoice(plan(["create"], ["create"], ["same"], []));
    expect(choice.skip).toBe(true);
    expect(choice.reason).toContain("only creates (2)");
  });

  it.each([["delete"], ["update"], ["replace"], ["create-replacement"], ["delete-replaced"], ["import"], ["read"], ["refresh"], ["discard"]])(
    "keeps checkpoints when the plan has a %s step", (step) => {
      const choice = checkpointChoice(plan(["create"], [step]));
      expect(choice.skip).toBe(false);
      expect(choice.reason).toContain(`1 ${step}`);
    });

  it("keeps checkpoints without an engine plan or with nothing to create", () => {
    expect(checkpointChoice(undefined).skip).toBe(false);
    expect(checkpointChoice({}).skip).toBe(false);
    expect(checkpointChoice("garbage").skip).toBe(false);
    expect(checkpointChoice(plan(["same"])).reason).toBe("checkpoints on: nothing to create");
  });

  it("reads a replacement's several steps as risky", () => {
    expect(checkpointChoice(plan(["create-replacement", "replace", "delete-replaced"])).skip).toBe(false);
  });
});
