import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  credentialAad, credentialDigest, dataKeyId, deriveWorkspaceKey, generateDataKey, NONCE_BYTES, openCredential, sealCredential, TAG_BYTES,
} from "../../components/credentials-crypto.ts";
import { credentialProvider } from "../../components/providers/local-credentials.ts";

const key = await generateDataKey();
const otherKey = await generateDataKey();
const aad = credentialAad("acme__emea", "slack");

describe("credential sealing (AES-256-GCM)", () => {
  it("opens what it sealed, for any text", async () => {
    await fc.assert(fc.asyncProperty(fc.string({ unit: "binary", maxLength: 400 }), async (plaintext) => {
      const sealed = await sealCredential(key, plaintext, aad);
      expect(sealed.nonce).toHaveLength(NONCE_BYTES);
      expect(sealed.ciphertext.length).toBe(Buffer.byteLength(plaintext) + TAG_BYTES);
      expect(await openCredential(key, sealed, aad)).toBe(plaintext);
    }), { numRuns: 200 });
  });

  it("never holds the plaintext in the ciphertext", async () => {
    const plaintext = "xoxb-1234567890-abcdefghijklmnop";
    const sealed = await sealCredential(key, plaintext, aad);
    expect(sealed.ciphertext.includes(Buffer.from(plaintext))).toBe(false);
    expect(sealed.ciphertext.toString("latin1")).not.toContain("xoxb");
  });

  it("rejects a ciphertext with any one bit flipped", async () => {
    const sealed = await sealCredential(key, "xoxb-secret-token-value", aad);
    await fc.assert(fc.asyncProperty(fc.nat(sealed.ciphertext.length * 8 - 1), async (bit) => {
      const tampered = Buffer.from(sealed.ciphertext);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      await expect(openCredential(key, { ...sealed, ciphertext: tampered }, aad)).rejects.toThrow(/failed authentication/);
    }), { numRuns: 200 });
  });

  it("rejects a changed nonce, a truncated ciphertext, another key, and another row's aad", async () => {
    const sealed = await sealCredential(key, "xoxb-secret-token-value", aad);
    const nonce = Buffer.from(sealed.nonce);
    nonce[0]! ^= 1;
    await expect(openCredential(key, { ...sealed, nonce }, aad)).rejects.toThrow(/failed authentication/);
    await expect(openCredential(key, { ...sealed, ciphertext: sealed.ciphertext.subarray(1) }, aad)).rejects.toThrow();
    await expect(openCredential(key, { ...sealed, ciphertext: sealed.ciphertext.subarray(0, 4) }, aad)).rejects.toThrow(/malformed/);
    await expect(openCredential(otherKey, sealed, aad)).rejects.toThrow(/failed authentication/);
    // The same ciphertext moved to another slug, or into another workspace's table:
    await expect(openCredential(key, sealed, credentialAad("acme__emea", "github"))).rejects.toThrow(/failed authentication/);
    await expect(openCredential(key, sealed, credentialAad("acme__us", "slack"))).rejects.toThrow(/failed authentication/);
  });

  it("never reuses a nonce: 5,000 seals of one value give 5,000 nonces and ciphertexts", async () => {
    const nonces = new Set<string>();
    const ciphertexts = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const sealed = await sealCredential(key, "same value", aad);
      nonces.add(sealed.nonce.toString("hex"));
      ciphertexts.add(sealed.ciphertext.toString("hex"));
    }
    expect(nonces.size).toBe(5000);
    expect(ciphertexts.size).toBe(5000);
  });

  it("refuses a key that is not 32 bytes of base64, without printing it", async () => {
    const bad = Buffer.alloc(16, 7).toString("base64");
    const error = await sealCredential(bad, "x", aad).catch((e: Error) => e);
    expect(String(error)).toMatch(/32 bytes.*got 16 bytes/);
    expect(String(error)).not.toContain(bad);
    await expect(sealCredential(`${key}!`, "x", aad)).rejects.toThrow(/canonical base64/);
  });

  it("names keys by an id that is stable, distinct per key and not the key", async () => {
    expect(await dataKeyId(key)).toBe(await dataKeyId(key));
    expect(await dataKeyId(key)).not.toBe(await dataKeyId(otherKey));
    expect(await dataKeyId(key)).toMatch(/^dk1-[0-9a-f]{16}$/);
  });

  it("digests a value under the key: same value same digest, any change a different one", async () => {
    const d = await credentialDigest(key, "v1", aad);
    expect(await credentialDigest(key, "v1", aad)).toBe(d);
    expect(await credentialDigest(key, "v2", aad)).not.toBe(d);
    expect(await credentialDigest(otherKey, "v1", aad)).not.toBe(d);
    expect(await credentialDigest(key, "v1", credentialAad("acme__emea", "github"))).not.toBe(d);
  });
});

describe("workspace data keys", () => {
  it("derives one independent key per workspace and generation, the same every run", async () => {
    const master = await generateDataKey();
    const emea = await deriveWorkspaceKey(master, "acme", "emea");
    expect(await deriveWorkspaceKey(master, "acme", "emea")).toBe(emea);
    expect(Buffer.from(emea, "base64")).toHaveLength(32);
    const others = await Promise.all([
      deriveWorkspaceKey(master, "acme", "us"),
      deriveWorkspaceKey(master, "acme", "emea", "2"),
      deriveWorkspaceKey(master, "acme-emea", "x"),
      deriveWorkspaceKey(await generateDataKey(), "acme", "emea"),
    ]);
    expect(new Set([emea, master, ...others]).size).toBe(6);
    // A ciphertext sealed for one workspace does not open under another's key.
    const sealed = await sealCredential(emea, "xoxb-token", aad);
    await expect(openCredential(others[0]!, sealed, aad)).rejects.toThrow(/failed authentication/);
  });

  it("refuses parts that could make two workspaces share a key", async () => {
    // "a/b" + "c" and "a" + "b/c" would both be "a/b/c" without this.
    await expect(deriveWorkspaceKey(key, "acme/x", "emea")).rejects.toThrow(/organization "acme\/x"/);
    await expect(deriveWorkspaceKey(key, "acme", "")).rejects.toThrow(/workspace ""/);
  });
});

describe("LocalCredential's diff", () => {
  const connection = { host: "127.0.0.1", port: 5432, user: "postgres", password: "pw", database: "postgres" };
  const inputs = { slug: "slack", provider: "slack", value: "xoxb-old", key, schema: "acme__emea", owner: "acme__emea__owner", app: "acme__emea__app", connection };
  const stateOf = async (i: typeof inputs) => ({
    slug: i.slug, provider: i.provider, schema: i.schema, owner: i.owner, app: i.app, connection: i.connection,
    keyId: await dataKeyId(i.key), digest: await credentialDigest(i.key, i.value, credentialAad(i.schema, i.slug)),
  });
  const diff = async (news: Partial<typeof inputs>) => credentialProvider.diff!("acme__emea/slack", await stateOf(inputs), { ...inputs, ...news });

  it("sees no change when nothing changed", async () => {
    expect(await diff({})).toMatchObject({ changes: false, replaces: [] });
  });

  it("updates in place for a new value, a new key, a new provider name or a new password", async () => {
    for (const news of [{ value: "xoxb-new" }, { key: otherKey }, { provider: "slack-v2" }, { connection: { ...connection, password: "pw2" } }]) {
      expect(await diff(news)).toMatchObject({ changes: true, replaces: [] });
    }
  });

  it("updates when the key is not known yet (rotation in the same run)", async () => {
    expect(await diff({ key: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).toMatchObject({ changes: true, replaces: [] });
  });

  it("replaces for a new slug or schema, creating the new row before deleting the old", async () => {
    expect(await diff({ slug: "slack2" })).toMatchObject({ changes: true, replaces: ["slug"], deleteBeforeReplace: false });
    expect(await diff({ schema: "acme__us" })).toMatchObject({ changes: true, replaces: ["schema"], deleteBeforeReplace: false });
  });

  it("replaces for another server, deleting the old row first when it may be the same row", async () => {
    expect(await diff({ connection: { ...connection, host: "localhost" } })).toMatchObject({ replaces: ["connection"], deleteBeforeReplace: true });
  });

  it("checks names and slug without quoting the credential", async () => {
    const { failures } = await credentialProvider.check!({}, { ...inputs, schema: "Bad Name", slug: "-x", value: "" });
    expect(failures!.map((f) => f.property).sort()).toEqual(["schema", "slug", "value"]);
    expect(JSON.stringify(failures)).not.toContain(key);
  });
});
