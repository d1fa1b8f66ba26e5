// AES-256-GCM sealing of integration credentials for the embedded default (no KMS). Used in
// three places that must agree byte for byte: the provider's WorkspaceCredentials (seals), the tests
// and the SaaS runtime (open). No Pulumi, no SQL.
//
// node:crypto is imported once, statically: the functions used to import it when called (a habit
// from serialised dynamic providers), which under the provider's loader (tsx) was a round trip
// through the module loader on every call, several per workspace in each preview.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";

/** Bytes of a data key (AES-256). */
export const DATA_KEY_BYTES = 32;
/** Bytes of a GCM nonce: 96 bits, the size GCM is specified for. */
export const NONCE_BYTES = 12;
/** Bytes of the GCM authentication tag appended to the ciphertext. */
export const TAG_BYTES = 16;

/** A sealed credential as stored in `integration_credentials`. */
export interface SealedCredential {
  /** GCM ciphertext followed by its 16-byte tag. */
  readonly ciphertext: Buffer;
  /** 12 bytes, fresh for every seal (random, or synthetic from a seed: see sealCredential). */
  readonly nonce: Buffer;
  /** Which data key sealed it (see dataKeyId). */
  readonly keyId: string;
}

/**
 * The additional authenticated data: binds a ciphertext to its row, so a ciphertext copied
 * into another slug or another workspace's table fails to open even under the same key.
 */
export function credentialAad(schema: string, slug: string): string {
  return `tenancy-as-code/integration-credential/v1/${schema}/${slug}`;
}

function keyBytes(key: string): Buffer {
  const bytes = Buffer.from(key, "base64");
  // Never echo the key: only its length can be told.
  if (bytes.length !== DATA_KEY_BYTES || bytes.toString("base64") !== key) {
    throw new Error(`a key must be ${DATA_KEY_BYTES} bytes in canonical base64; got ${bytes.length} bytes`);
  }
  return bytes;
}

/** A new random key (a master key, or a data key in tests), base64. */
export async function generateDataKey(): Promise<string> {
  return randomBytes(DATA_KEY_BYTES).toString("base64");
}

/**
 * A workspace's data key: HKDF-SHA256 of the stack's master key, bound to the organization,
 * the workspace and a generation (bump it to rotate one workspace's key). Keys of different
 * workspaces are independent: one tells nothing about another, nor about the master.
 */
export async function deriveWorkspaceKey(masterKey: string, organization: string, workspace: string, generation = "1"): Promise<string> {
  for (const [what, part] of [["organization", organization], ["workspace", workspace], ["generation", generation]]) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(part!)) throw new Error(`${what} ${JSON.stringify(part)} cannot name a data key`);
  }
  const info = `${organization}/${workspace}/${generation}`;
  return Buffer.from(hkdfSync("sha256", keyBytes(masterKey), "tenancy-as-code/workspace-data-key/v1", info, DATA_KEY_BYTES)).toString("base64");
}

/**
 * A public name for a data key, stored next to each ciphertext so readers can tell which key
 * sealed a row after a rotation. An HMAC under the key: reveals nothing about it.
 */
export async function dataKeyId(key: string): Promise<string> {
  return `dk1-${createHmac("sha256", keyBytes(key)).update("tenancy-as-code/data-key-id").digest("hex").slice(0, 16)}`;
}

/**
 * A keyed digest of a credential, kept in state so a diff can tell a changed value from an
 * unchanged one without keeping the value. Under the (secret) data key, so a guessable
 * credential cannot be confirmed from the state by hashing candidates.
 */
export async function credentialDigest(key: string, plaintext: string, aad: string): Promise<string> {
  const mac = createHmac("sha256", keyBytes(key)).update("tenancy-as-code/credential-digest\0").update(aad).update("\0");
  return mac.update(plaintext, "utf8").digest("hex");
}

/**
 * Encrypts under a nonce that is fresh for every seal, unless `seed` is given: then the nonce is
 * synthetic, HMAC-SHA256 (under a key derived from the data key) of the seed, the aad and the
 * plaintext, cut to 96 bits, as in SIV modes. The same seed, row and value give the same
 * ciphertext (what lets a saved Pulumi update plan, which pins the engine's per-resource seed,
 * match its apply); any other input gives another nonce, so a nonce never repeats under one key
 * for two different plaintexts or rows. Without a saved plan the engine's seed is random per run.
 */
export async function sealCredential(key: string, plaintext: string, aad: string, seed?: Buffer): Promise<SealedCredential> {
  const bytes = keyBytes(key);
  const nonce = seed === undefined
    ? randomBytes(NONCE_BYTES)
    : createHmac("sha256", createHmac("sha256", bytes).update("tenancy-as-code/credential-nonce-key").digest())
      .update(lengthPrefixed(seed)).update(lengthPrefixed(Buffer.from(aad, "utf8"))).update(plaintext, "utf8")
      .digest().subarray(0, NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", bytes, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return { ciphertext: Buffer.concat([body, cipher.getAuthTag()]), nonce, keyId: await dataKeyId(key) };
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** Decrypts and authenticates; throws on a wrong key, a wrong row (aad) or any tampering. */
export async function openCredential(key: string, sealed: Pick<SealedCredential, "ciphertext" | "nonce">, aad: string): Promise<string> {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.ciphertext.length < TAG_BYTES) {
    throw new Error("sealed credential is malformed");
  }
  const tagAt = sealed.ciphertext.length - TAG_BYTES;
  const decipher = createDecipheriv("aes-256-gcm", keyBytes(key), sealed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(sealed.ciphertext.subarray(tagAt));
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, tagAt)), decipher.final()]).toString("utf8");
  } catch {
    throw new Error("sealed credential failed authentication (wrong key, wrong row, or tampered)");
  }
}

/**
 * A workspace app role's password: HKDF-SHA256 of the stack's master key, bound to the
 * organization, the workspace and a generation (bump it to rotate). Derived in the program, a
 * secret there; the provider sends only a SCRAM verifier to the server and keeps only a digest,
 * so no response the engine logs ever holds it.
 */
export async function deriveAppPassword(masterKey: string, organization: string, workspace: string, generation = "1"): Promise<string> {
  for (const [what, part] of [["organization", organization], ["workspace", workspace], ["generation", generation]]) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(part!)) throw new Error(`${what} ${JSON.stringify(part)} cannot name an app password`);
  }
  return Buffer.from(hkdfSync("sha256", keyBytes(masterKey), "tenancy-as-code/app-password/v1", `${organization}/${workspace}/${generation}`, 32)).toString("base64url");
}
