import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  credentialAad, credentialDigest, dataKeyId, deriveAppPassword, deriveWorkspaceKey, generateDataKey, NONCE_BYTES, openCredential, sealCredential, TAG_BYTES,
} from "../../components/credentials-crypto.ts";
import { credentialsKind, type CredentialsInputs, type CredentialsState } from "../../provider/resources/credentials.ts";
import { dataKeyOf } from "../../provider/keys.ts";
import { SECRET_SIG, UNKNOWN, unwrap, type Keys } from "../../provider/server.ts";

// Hundreds of seals each: the 5 s default is too short on a busy 2-core machine (measured 5.2 s
// for the first one while e2e suites ran alongside). A time limit, not an assertion.
const HEAVY = 30_000;
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
  }, HEAVY);

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
  }, HEAVY);

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
  }, HEAVY);

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

describe("app-role passwords", () => {
  it("derives one password per organization, workspace and generation, the same every run", async () => {
    const master = await generateDataKey();
    const emea = await deriveAppPassword(master, "acme", "emea");
    expect(await deriveAppPassword(master, "acme", "emea")).toBe(emea);
    // 32 bytes of HKDF output, base64url: printable, no padding, nothing to quote in SQL or a URL.
    expect(emea).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const others = await Promise.all([
      deriveAppPassword(master, "acme", "us"),
      deriveAppPassword(master, "acme", "emea", "2"),
      deriveAppPassword(master, "acme-emea", "x"),
      deriveAppPassword(await generateDataKey(), "acme", "emea"),
    ]);
    expect(new Set([emea, ...others]).size).toBe(5);
  });

  it("is independent of the workspace's data key and of the master key", async () => {
    const master = await generateDataKey();
    const password = await deriveAppPassword(master, "acme", "emea");
    const dataKey = await deriveWorkspaceKey(master, "acme", "emea");
    for (const other of [dataKey, master]) {
      expect(Buffer.from(password, "base64url").equals(Buffer.from(other, "base64"))).toBe(false);
    }
  });


  it("refuses parts that could make two workspaces share a password, and a bad master key without printing it", async () => {
    await expect(deriveAppPassword(key, "acme/x", "emea")).rejects.toThrow(/organization "acme\/x"/);
    await expect(deriveAppPassword(key, "acme", "")).rejects.toThrow(/workspace ""/);
    await expect(deriveAppPassword(key, "acme", "emea", "2/3")).rejects.toThrow(/generation "2\/3"/);
    const bad = Buffer.alloc(16, 7).toString("base64");
    const error = await deriveAppPassword(bad, "acme", "emea").catch((e: Error) => e);
    expect(String(error)).toMatch(/32 bytes.*got 16 bytes/);
    expect(String(error)).not.toContain(bad);
  });
});

describe("WorkspaceCredentials' check and diff", () => {
  const names = { schema: "acme__emea", owner: "acme__emea__owner", app: "acme__emea__app" };
  // The provider's configuration: the data key is derived from its master key, never an input.
  const keys: Keys = { masterKey: key };
  const inputs: CredentialsInputs = { organization: "acme", workspace: "emea", names, keyGeneration: "1", integrations: { slack: { provider: "slack", value: "xoxb-old" } } };
  /** What create would keep: the key's id and a keyed digest per integration, never a value or key. */
  const stateOf = async (i: CredentialsInputs): Promise<CredentialsState> => {
    const dataKey = await dataKeyOf(keys, { organization: i.organization, workspace: i.workspace, generation: i.keyGeneration });
    return {
      organization: i.organization, workspace: i.workspace, names: i.names, keyGeneration: i.keyGeneration, keyId: await dataKeyId(dataKey), table: "ok",
      sealed: Object.fromEntries(await Promise.all(Object.entries(i.integrations).map(async ([slug, x]) => [slug, { provider: x.provider, digest: await credentialDigest(dataKey, x.value!, credentialAad(i.names.schema, slug)) }] as const))),
    };
  };
  const diff = async (news: Partial<CredentialsInputs>, olds: CredentialsInputs = inputs, with_: Keys = keys) => credentialsKind.diff(await stateOf(olds), { ...inputs, ...news }, with_);

  it("sees no change when nothing changed", async () => {
    expect(await diff({})).toEqual({ replaces: [], detailedDiff: {} });
    // A state written with the read-only role among the names (an earlier version) is the same table.
    const older = { ...(await stateOf(inputs)), names: { ...names, readonly: "acme__emea__ro" } };
    expect(await credentialsKind.diff(older, inputs, keys)).toEqual({ replaces: [], detailedDiff: {} });
  });

  it("updates in place, per integration, for a new value or a new provider name", async () => {
    expect(await diff({ integrations: { slack: { provider: "slack", value: "xoxb-new" } } })).toEqual({ replaces: [], detailedDiff: { 'integrations["slack"]': "update" } });
    expect(await diff({ integrations: { slack: { provider: "slack-v2", value: "xoxb-old" } } })).toEqual({ replaces: [], detailedDiff: { 'integrations["slack"]': "update" } });
  });

  it("adds and deletes integrations by slug, leaving the others alone", async () => {
    const two: CredentialsInputs = { ...inputs, integrations: { slack: { provider: "slack", value: "xoxb-old" }, github: { provider: "github", value: "ghp-1" } } };
    expect(await diff({ integrations: { ...two.integrations, drive: { provider: "google-drive", value: "d-1" } } }, two)).toEqual({ replaces: [], detailedDiff: { 'integrations["drive"]': "add" } });
    expect(await diff({ integrations: { github: { provider: "github", value: "ghp-1" } } }, two)).toEqual({ replaces: [], detailedDiff: { 'integrations["slack"]': "delete" } });
    // A renamed slug is the old row deleted and a new one added, not a replacement of the rest.
    expect(await diff({ integrations: { slack2: { provider: "slack", value: "xoxb-old" } } })).toEqual({ replaces: [], detailedDiff: { 'integrations["slack"]': "delete", 'integrations["slack2"]': "add" } });
  });

  it("updates every integration under a new key (a new generation or master key), without replacing", async () => {
    const rotated = { replaces: [], detailedDiff: { key: "update", 'integrations["slack"]': "update" } };
    expect(await diff({ keyGeneration: "2" })).toEqual(rotated);
    expect(await diff({}, inputs, { masterKey: otherKey })).toEqual(rotated);
  });

  it("updates when the key or a value is not known yet (rotation in the same run)", async () => {
    expect(await diff({ keyGeneration: UNKNOWN })).toEqual({ replaces: [], detailedDiff: { integrations: "update" } });
    expect(await diff({}, inputs, { masterKey: undefined })).toEqual({ replaces: [], detailedDiff: { integrations: "update" } });
    expect(await diff({ integrations: { slack: { provider: "slack", value: UNKNOWN } } })).toEqual({ replaces: [], detailedDiff: { integrations: "update" } });
  });

  it("replaces when the credentials move to another organization or workspace", async () => {
    const moved = await diff({ workspace: "us", names: { schema: "acme__us", owner: "acme__us__owner", app: "acme__us__app" } });
    // Another workspace is another table too.
    expect(moved.replaces).toEqual(["workspace", "names"]);
    expect(moved.detailedDiff).toMatchObject({ workspace: "update-replace", names: "update-replace" });
    expect((await diff({ organization: "globex" })).replaces).toEqual(["organization"]);
  });

  it("seals each value in Check, so the engine keeps (and sends back later) only ciphertext and a digest", async () => {
    const prepared = await credentialsKind.prepare!(inputs, keys);
    expect(JSON.stringify(prepared)).not.toContain("xoxb-old");
    const slack = (prepared.integrations as Record<string, { provider: string; sealed: Record<string, unknown> }>).slack!;
    expect(slack.provider).toBe("slack");
    // Marked secret for the engine (ciphertext, but a preview has no use for it).
    expect(slack.sealed[SECRET_SIG]).toBeDefined();
    const sealed = unwrap(slack.sealed) as { ciphertext: string; nonce: string; keyId: string; digest: string };
    const dataKey = await dataKeyOf(keys, { organization: "acme", workspace: "emea", generation: "1" });
    expect(await openCredential(dataKey, { ciphertext: Buffer.from(sealed.ciphertext, "base64"), nonce: Buffer.from(sealed.nonce, "base64") }, credentialAad(names.schema, "slack"))).toBe("xoxb-old");
    // What the engine sends back diffs like the value it came from.
    const kept = unwrap(prepared) as CredentialsInputs;
    expect(await credentialsKind.diff(await stateOf(inputs), kept, keys)).toEqual({ replaces: [], detailedDiff: {} });
    expect((await credentialsKind.diff(await stateOf({ ...inputs, integrations: { slack: { provider: "slack", value: "xoxb-new" } } }), kept, keys)).detailedDiff).toEqual({ 'integrations["slack"]': "update" });
    // A fresh nonce every time: sealing is never replayed.
    expect(unwrap(await credentialsKind.prepare!(inputs, keys))).not.toEqual(kept);
  });

  it("seals the same in a saved plan's preview and its apply: an unchanged value keeps its sealed row, a new one follows the engine's seed", async () => {
    const seed = Buffer.alloc(32, 7);
    const first = unwrap(await credentialsKind.prepare!(inputs, keys, { olds: undefined, seed })) as CredentialsInputs;
    // The engine pins one seed per resource in a saved plan: preview and up seal alike.
    expect(unwrap(await credentialsKind.prepare!(inputs, keys, { olds: undefined, seed }))).toEqual(first);
    // Another seed (a run without a saved plan) is another nonce.
    const other = unwrap(await credentialsKind.prepare!(inputs, keys, { olds: undefined, seed: Buffer.alloc(32, 8) })) as CredentialsInputs;
    expect(other.integrations.slack!.sealed!.nonce).not.toBe(first.integrations.slack!.sealed!.nonce);
    // The value unchanged under the same key: whatever the seed, the sealed value stored last time is kept.
    expect(unwrap(await credentialsKind.prepare!(inputs, keys, { olds: first as never, seed: Buffer.alloc(32, 9) }))).toEqual(first);
    // A rotated value is sealed anew (and opens to the new value); a bumped key generation too.
    const rotatedInputs = { ...inputs, integrations: { slack: { provider: "slack", value: "xoxb-new" } } };
    const rotated = unwrap(await credentialsKind.prepare!(rotatedInputs, keys, { olds: first as never, seed })) as CredentialsInputs;
    const dataKey = await dataKeyOf(keys, { organization: "acme", workspace: "emea", generation: "1" });
    const s = rotated.integrations.slack!.sealed!;
    expect(s.nonce).not.toBe(first.integrations.slack!.sealed!.nonce);
    expect(await openCredential(dataKey, { ciphertext: Buffer.from(s.ciphertext, "base64"), nonce: Buffer.from(s.nonce, "base64") }, credentialAad(names.schema, "slack"))).toBe("xoxb-new");
    const regenerated = unwrap(await credentialsKind.prepare!({ ...inputs, keyGeneration: "2" }, keys, { olds: first as never, seed })) as CredentialsInputs;
    expect(regenerated.integrations.slack!.sealed!.keyId).not.toBe(first.integrations.slack!.sealed!.keyId);
  });

  it("derives a seeded nonce from seed, row and value: one changed input is another nonce", async () => {
    const seed = Buffer.alloc(32, 1);
    const a = await sealCredential(key, "xoxb-a", aad, seed);
    expect((await sealCredential(key, "xoxb-a", aad, seed)).ciphertext).toEqual(a.ciphertext);
    const nonces = [a, await sealCredential(key, "xoxb-b", aad, seed), await sealCredential(key, "xoxb-a", credentialAad("acme__emea", "drive"), seed),
      await sealCredential(key, "xoxb-a", aad, Buffer.alloc(32, 2)), await sealCredential(otherKey, "xoxb-a", aad, seed)].map((s) => s.nonce.toString("hex"));
    expect(new Set(nonces).size).toBe(5);
    expect(await openCredential(key, a, aad)).toBe("xoxb-a");
  });

  it("leaves what a preview does not know yet unsealed, still secret", async () => {
    const later = await credentialsKind.prepare!({ ...inputs, integrations: { slack: { provider: "slack", value: UNKNOWN }, drive: { provider: "google-drive", value: "d-1" } } }, keys);
    expect(later.integrations).toEqual({ slack: { provider: "slack", value: UNKNOWN }, drive: { provider: "google-drive", value: { [SECRET_SIG]: expect.any(String), value: "d-1" } } });
    expect((await credentialsKind.prepare!(inputs, { masterKey: undefined })).integrations).toEqual({ slack: { provider: "slack", value: { [SECRET_SIG]: expect.any(String), value: "xoxb-old" } } });
  });

  it("repairs a table a refresh found wrong", async () => {
    await expect(credentialsKind.diff({ ...(await stateOf(inputs)), table: "has a trigger" }, inputs, keys)).resolves.toEqual({ replaces: [], detailedDiff: { table: "update" } });
  });

  it("checks names and slugs without quoting the credential or the key", () => {
    const failures = credentialsKind.check({ ...inputs, names: { ...names, schema: "Bad Name" }, keyGeneration: "Two", integrations: { "-x": { provider: "slack", value: "" }, slack: { provider: "slack", value: "xoxb-secret-value" } } });
    expect(failures.map((f) => f.property).sort()).toEqual(["integrations", "integrations.-x", "keyGeneration", "schema"]);
    expect(JSON.stringify(failures)).not.toContain(key);
    expect(JSON.stringify(failures)).not.toContain("xoxb-secret-value");
    expect(credentialsKind.check(inputs)).toEqual([]);
    expect(credentialsKind.check({ ...inputs, keyGeneration: UNKNOWN, integrations: { slack: { provider: "slack", value: UNKNOWN } } })).toEqual([]);
  });
});
