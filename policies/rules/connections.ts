// How many sessions a workspace may hold: its app role's CONNECTION LIMIT, so one workspace
// cannot take every connection the server has and lock the admin (and the other workspaces) out.
import { MAX_APP_CONNECTION_LIMIT } from "../../config/schema.ts";
import { defineRule, quote, Severity } from "./types.ts";

const valid = (value: unknown) => typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_APP_CONNECTION_LIMIT;

export const connectionLimitValid = defineRule({
  id: "connection-limit-valid",
  description: `Checks that every declared connectionLimit (the organization's default and each workspace's) is a whole number of sessions from 1 to ${MAX_APP_CONNECTION_LIMIT}.`,
  severity: Severity.Error,
  owns: ["organization.connectionLimit", "workspaces.*.connectionLimit"],
  *check({ model }) {
    const org = model.organization;
    if (org?.connectionLimit !== undefined && !valid(org.connectionLimit)) {
      yield { path: ["organization", "connectionLimit"], message: `connectionLimit of organization ${quote(org.slug)} must be a whole number of sessions from 1 to ${MAX_APP_CONNECTION_LIMIT}; got ${quote(org.connectionLimit)}` };
    }
    for (const [w, ws] of model.workspaces.entries()) {
      if (ws.connectionLimit !== undefined && !valid(ws.connectionLimit)) {
        yield { path: ["workspaces", w, "connectionLimit"], message: `connectionLimit of workspace ${quote(ws.slug)} must be a whole number of sessions from 1 to ${MAX_APP_CONNECTION_LIMIT}; got ${quote(ws.connectionLimit)}` };
      }
    }
  },
});
