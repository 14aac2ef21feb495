import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** Encrypts small secrets (Stripe keys, webhook secrets, OAuth tokens) with AES-256-GCM. */
export type SecretBox = {
  /** `context` is bound as associated data: a ciphertext only opens under the same context. */
  seal(plaintext: string, context: string): string;
  open(ciphertext: string, context: string): string;
};

const VERSION = "v1";

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error("encryption key must be 32 bytes");
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), body]
        .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
        .join(".");
    },
    open(ciphertext, context) {
      const [version, iv, tag, body] = ciphertext.split(".");
      if (version !== VERSION || !iv || !tag || body === undefined)
        throw new Error("unrecognised ciphertext");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    },
  };
}

/** "sk_live_…4242": enough to recognise a key, never enough to use it. */
export function secretHint(secret: string): string {
  const prefix = /^[a-z]+_(live|test)_/.exec(secret)?.[0] ?? secret.slice(0, 3);
  return `${prefix}…${secret.slice(-4)}`;
}
