// The app passwords as found by a real login (provider/postgres/login-probe.ts), with --stack:
// the app role can change its own password, and no catalog the audit reads shows it.
import { escapeText } from "../components/escape.ts";
import type { TenancyModel } from "../config/model.ts";
import type { ProbeResult } from "../provider/postgres/login-probe.ts";
import { FindingClass, FindingId, type Finding } from "./findings.ts";

export interface LoginProbed {
  readonly workspace: string;
  readonly appRole: string;
  readonly result: ProbeResult;
}

/** `app-password-drift` for a refused login, `app-password-unchecked` (info) when it could not be tried. */
export function diffLogins(model: TenancyModel, probed: readonly LoginProbed[]): Finding[] {
  const findings: Finding[] = [];
  const q = (name: string) => `"${escapeText(name)}"`;
  for (const p of probed) {
    const index = model.workspaces.findIndex((w) => w.slug === p.workspace);
    const path = index >= 0 ? ["workspaces", index] : ["workspaces"];
    const object = `role ${q(p.appRole)}`;
    if (p.result.login === "refused") {
      findings.push({
        class: FindingClass.changed, id: FindingId.appPasswordDrift, workspace: p.workspace, object, path,
        message: `the app role ${q(p.appRole)} of workspace ${q(p.workspace)} must log in with the password the stack derives (tenancy credentials); it was refused, so someone changed it (ALTER ROLE … PASSWORD): the next apply sets it back`,
        declared: "the derived password", found: "another password",
      });
    } else if (p.result.login === "unknown") {
      findings.push({
        class: FindingClass.info, id: FindingId.appPasswordUnchecked, workspace: p.workspace, object, path,
        message: `could not log in as ${q(p.appRole)} of workspace ${q(p.workspace)} to check its password: ${escapeText(p.result.reason)}`,
      });
    }
  }
  return findings;
}
