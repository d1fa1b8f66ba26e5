// A credential written into a resource's inputs as plain text ends up readable in the state,
// the preview and the engine's logs. Inputs that look like credentials (config/secrets.ts, the
// same test `integration-credentials-scoped` applies to declarations) must arrive as secrets.
import type { PolicyConfigSchema, ReportViolation, ResourceValidationPolicy, ResourceValidationArgs } from "@pulumi/policy";
import { looksLikeSecret } from "../config/secrets.ts";
import { plain, secretPathsOf, UNKNOWN, type Path } from "./view.ts";

export interface SecretLiteralConfig {
  /** Property names whose values are public digests, not credentials. */
  readonly ignoreProperties: readonly string[];
}

export const DEFAULT_IGNORED = ["checksum", "digest", "keyId", "sha256", "fingerprint"] as const;

const configSchema: PolicyConfigSchema = {
  properties: {
    ignoreProperties: { type: "array", items: { type: "string" }, default: [...DEFAULT_IGNORED], description: "Property names never checked: public digests (checksums, keyed digests, key ids)." },
  },
};

/**
 * Strings that are names, not credentials, though looksLikeSecret (made for config key names)
 * would take them for one: text with whitespace (PEM blocks aside), ARNs, lower-case paths
 * such as `alias/tenancy/acme/emea` (base64 keys mix cases) and file paths (config such as
 * `tenancy:declaration` reaches the default provider's inputs).
 */
export function notACredential(value: string): boolean {
  if (value.startsWith("-----BEGIN")) return false;
  return /\s/.test(value) || value.startsWith("arn:") || (/[/:]/.test(value) && /^[a-z0-9._:/*-]+$/.test(value)) ||
    /^(\/|\.{1,2}\/)([\w.-]+\/)+[\w.-]+\.[a-z]{1,5}$/.test(value);
}

function jsonIn(value: string): unknown {
  if (!/^[[{]/.test(value)) return undefined;
  try { return JSON.parse(value); } catch { return undefined; }
}

const startsWith = (path: Path, prefix: Path) => prefix.length <= path.length && prefix.every((p, i) => p === path[i]);

/** Paths (never values) of string inputs that look like credentials, with why. */
export function literalSecrets(props: unknown, secret: readonly Path[], ignore: ReadonlySet<string>): { path: Path; reason: string }[] {
  const found: { path: Path; reason: string }[] = [];
  const walk = (value: unknown, path: Path) => {
    if (secret.some((s) => startsWith(path, s))) return;
    if (typeof value === "string") {
      if (value === UNKNOWN || notACredential(value)) return;
      const embedded = jsonIn(value);
      if (embedded !== undefined) return walk(embedded, path); // a policy document, say
      const look = looksLikeSecret(value);
      if (look) found.push({ path, reason: look.reason });
      return;
    }
    if (value === null || typeof value !== "object") return;
    for (const [key, child] of Object.entries(value)) {
      if (ignore.has(key)) continue;
      walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
    }
  };
  walk(props, []);
  return found;
}

const show = (path: Path) => path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");

export const noPlaintextSecretLiteral: ResourceValidationPolicy = {
  name: "no-plaintext-secret-literal",
  description: "Checks that no resource input holds a credential-looking literal (token prefix, base64 or hex key, random string) that is not marked secret.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Read the value with `config.requireSecret(...)` or wrap it in `pulumi.secret(...)` (and rotate it: the plain value may already be in a state file or log).",
  configSchema,
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    const config = args.getConfig<Partial<SecretLiteralConfig>>();
    const ignore = new Set(config.ignoreProperties ?? DEFAULT_IGNORED);
    const props = plain(args.props);
    for (const { path, reason } of literalSecrets(props, secretPathsOf(props) ?? [], ignore)) {
      report(`input ${show(path)} of ${args.type} ${JSON.stringify(args.name)} ${reason} and looks like a credential, but is not marked secret (value not shown)`);
    }
  },
};
