// Telling a secret's *name* from a secret's *value*. Used by `integration-credentials-scoped`
// today and by the policy pack's literal-secret check later, so it lives with the formats.

/** Prefixes of well-known credential formats (OAuth bot tokens, PATs, cloud keys). */
const TOKEN_PREFIXES = [
  "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-", // Slack
  "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", // GitHub
  "glpat-", // GitLab
  "sk-", "sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", // OpenAI, Stripe
  "AKIA", "ASIA", // AWS access key ids
  "AIza", "ya29.", // Google
  "shpat_", "shpss_", // Shopify
  "SG.", // SendGrid
  "EAA", // Meta
  "ntn_", "secret_", // Notion
  "-----BEGIN", // PEM
] as const;

/** Shannon entropy in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function charClass(ch: string): number {
  if (ch >= "a" && ch <= "z") return 0;
  if (ch >= "A" && ch <= "Z") return 1;
  if (ch >= "0" && ch <= "9") return 2;
  return 3;
}

/** Share of adjacent character pairs whose classes (lower, upper, digit, other) differ. */
export function classSwitchRate(value: string): number {
  let switches = 0;
  for (let i = 1; i < value.length; i++) {
    if (charClass(value[i - 1]!) !== charClass(value[i]!)) switches++;
  }
  return value.length > 1 ? switches / (value.length - 1) : 0;
}

export interface SecretLook {
  /** Why the value looks like a credential, safe to print (never contains the value). */
  readonly reason: string;
}

/**
 * Whether a string looks like a literal credential rather than the name of one. Returns a
 * printable reason, or undefined. The value itself must never be echoed by callers.
 */
export function looksLikeSecret(value: string): SecretLook | undefined {
  const prefix = TOKEN_PREFIXES.find((p) => value.startsWith(p) && value.length >= p.length + 8);
  if (prefix) return { reason: `starts with the token prefix "${prefix}" (${value.length} characters)` };
  if (value.length >= 16 && /[/+=]/.test(value) && entropy(value) >= 4) {
    return { reason: `is a base64-like string (${value.length} characters)` };
  }
  if (/^[0-9a-fA-F]{32,}$/.test(value)) return { reason: `is a ${value.length}-digit hex string` };
  // Names are words (camelCase, snake_case): few switches between character classes. Random
  // tokens switch class at most positions and carry ~4+ bits per character.
  if (value.length >= 20 && entropy(value) >= 3.5 && classSwitchRate(value) >= 0.5) {
    return { reason: `is a random-looking string (${value.length} characters)` };
  }
  return undefined;
}

/**
 * A message safe to print: every quoted value (JSON style, as `quote` writes them) that looks
 * like a literal credential is replaced, whichever rule or parser quoted it, so a token pasted
 * into the wrong field is not echoed into CI logs and PR comments.
 */
export function redactQuotedSecrets(message: string): string {
  return message.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => {
    let value: unknown;
    try {
      value = JSON.parse(quoted);
    } catch {
      return quoted;
    }
    return typeof value === "string" && looksLikeSecret(value) ? "(a value that looks like a credential; not shown)" : quoted;
  });
}

/**
 * Characters that can make printed text lie to a reader (bidirectional overrides, zero-width
 * characters, terminal control sequences) written as `\u{…}` escapes instead.
 */
export function escapeInvisible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
}

/**
 * The config namespace of a credential named without one (`emeaSlackToken` is
 * `credentials:emeaSlackToken`). Not the project's: the engine gives the provider plugin named
 * like a namespace that namespace's config, decrypted, in its environment, and the project and
 * the provider are both `tenancy`. With one secret per integration there, the provider could not
 * start past 128 KiB of config ("argument list too long": the kernel's cap on one environment string).
 */
export const CREDENTIALS_NAMESPACE = "credentials";

/** The full config key an integration's `credentialsSecret` names (`namespace:key`). */
export function credentialKey(reference: string): string {
  return reference.indexOf(":") > 0 ? reference : `${CREDENTIALS_NAMESPACE}:${reference}`;
}
