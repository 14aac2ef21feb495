import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { issueApiKey, parseApiKey, safeEqual, sha256 } from "../../src/orgs/api-keys.ts";
import { GENERATED_KEY_FILE, resolveEncryptionKey } from "../../src/orgs/encryption-key.ts";
import { createSecretBox, secretHint } from "../../src/orgs/secrets.ts";

describe("secret box (AES-256-GCM)", () => {
  const box = createSecretBox(randomBytes(32));

  it("round-trips and never stores the plaintext", () => {
    const sealed = box.seal("sk_live_abc123", "org:1:secretKey");
    expect(sealed).not.toContain("sk_live_abc123");
    expect(box.open(sealed, "org:1:secretKey")).toBe("sk_live_abc123");
    expect(box.seal("sk_live_abc123", "org:1:secretKey")).not.toBe(sealed);
  });

  it("refuses another context, a tampered ciphertext, and another key", () => {
    const sealed = box.seal("whsec_x", "org:1:webhook");
    expect(() => box.open(sealed, "org:2:webhook")).toThrow();
    const parts = sealed.split(".");
    const body = Buffer.from(parts[3]!, "base64url");
    body[0] = body[0]! ^ 1;
    expect(() =>
      box.open([...parts.slice(0, 3), body.toString("base64url")].join("."), "org:1:webhook"),
    ).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed, "org:1:webhook")).toThrow();
  });

  it("hints show the prefix and the last four characters only", () => {
    expect(secretHint("sk_live_51Habcdefgh4242")).toBe("sk_live_…4242");
    expect(secretHint("rk_test_zzzz9876")).toBe("rk_test_…9876");
  });
});

describe("API keys", () => {
  it("issues parseable keys whose secret only the hash matches", () => {
    const issued = issueApiKey();
    const parsed = parseApiKey(issued.key);
    expect(parsed?.id).toBe(issued.id);
    expect(sha256(parsed!.secret)).toBe(issued.secretHash);
    expect(issued.secretHash).not.toContain(parsed!.secret);
    expect(parseApiKey(`${issued.key}x`)).toBeNull();
    expect(parseApiKey("Bearer nonsense")).toBeNull();
  });

  it("compares in constant time whatever the lengths", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "x")).toBe(false);
  });
});

describe("encryption key resolution", () => {
  it("uses ENCRYPTION_KEY when set", async () => {
    const key = randomBytes(32);
    const config = loadConfig({ ENCRYPTION_KEY: key.toString("base64") });
    expect((await resolveEncryptionKey(config, () => {})).equals(key)).toBe(true);
  });

  it("generates one into DATA_DIR once, with a warning, and reuses it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gw-key-"));
    const config = loadConfig({ DATA_DIR: dir });
    const warnings: string[] = [];
    const first = await resolveEncryptionKey(config, (message) => warnings.push(message));
    const second = await resolveEncryptionKey(config, (message) => warnings.push(message));
    expect(first.equals(second)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("ENCRYPTION_KEY is not set");
    expect(warnings[0]).not.toContain(first.toString("base64"));
    const file = path.join(dir, GENERATED_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, "utf8")).trim(), "base64").equals(first)).toBe(true);
  });
});
