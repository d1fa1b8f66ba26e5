// Every policy of the pack, grouped by area. Importing this module starts nothing (tests use
// it); policies/index.ts serves it to the engine.
import type { Policies } from "@pulumi/policy";
import { awsPolicies } from "./aws.ts";
import { postgresPolicies } from "./postgres.ts";
import { noPlaintextSecretLiteral } from "./secrets.ts";
import { tenancyPolicies } from "./tenancy.ts";

export const PACK_NAME = "tenancy";

export const policies: Policies = [...tenancyPolicies, ...postgresPolicies, ...awsPolicies, noPlaintextSecretLiteral];
