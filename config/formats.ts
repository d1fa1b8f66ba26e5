// Value formats shared by the zod schema (so editors see them in the JSON Schema) and by the
// rules (so a model rebuilt from live resources, which never went through zod, is held to the
// same formats). One definition each, here.

/** Organization slug: lower-case, starts with a letter, used inside resource names. */
export const ORG_SLUG = /^[a-z][a-z0-9-]{1,30}$/;
/** Workspace, integration and agent slugs: same alphabet as the organization slug. */
export const SLUG = /^[a-z][a-z0-9-]{0,39}$/;
/** `#RRGGBB`, upper or lower case hex. */
export const HEX_COLOUR = /^#[0-9A-Fa-f]{6}$/;
/** A permission name such as `members.manage`. */
export const PERMISSION = /^[a-z][a-zA-Z]*(\.[a-z][a-zA-Z]*)*$/;
/** A role name in the catalogue. */
export const ROLE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
/**
 * A Pulumi config key naming a secret: `key` or `namespace:key`. Deliberately narrower than
 * what Pulumi accepts so that a pasted token (which has `/`, `+`, `=` or is long) stands out.
 */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}(:[A-Za-z][A-Za-z0-9_-]{0,63})?$/;
/** A pragmatic email check; the directory is not the place for RFC 5322 corner cases. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * What an email must be once normalised (NFKC, lower case): a plain ASCII address, letters,
 * digits and `. _ % + ' -` before the `@`, DNS labels after it (international domains in
 * punycode). NFKC folds width variants (`Ａna`), but not look-alikes from other scripts
 * (Cyrillic `а` in `аna@acme.test`) nor invisible characters: those would make one person two
 * entries that read the same in review, so they are refused rather than compared.
 */
export const PLAIN_EMAIL = /^[a-z0-9._%+'-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export function isPlainEmail(email: string): boolean {
  let plain = plainEmails.get(email);
  if (plain === undefined) {
    const key = emailKey(email);
    plain = key.length <= 254 && PLAIN_EMAIL.test(key);
    if (plainEmails.size >= PLAIN_EMAIL_MEMO) plainEmails.clear();
    plainEmails.set(email, plain);
  }
  return plain;
}

// Members repeat the directory's emails (50,000 memberships over 2,000 people at 1,000
// workspaces × 50), and the schema checks each one: NFKC and the pattern once per spelling.
// Bounded, so a long-lived process (the policy pack) holds at most this many.
const PLAIN_EMAIL_MEMO = 100_000;
const plainEmails = new Map<string, boolean>();

/** Emails are compared after Unicode NFKC and lower-casing, everywhere. */
export function emailKey(email: string): string {
  return email.normalize("NFKC").toLowerCase();
}

export function isSafeAllowance(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
