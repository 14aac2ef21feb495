import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Deterministic pseudo-random source (mulberry32 seeded by an FNV-1a hash of the seed). */
export interface SeededRandom {
  next(): number;
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  chars(length: number): string;
  /** A Stripe-looking id such as `po_1Pgc79B7WZ01zgkWu1KToYf4`. */
  id(prefix: string, length?: number): string;
  fork(label: string): SeededRandom;
}

function hashSeed(seed: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function createRandom(seed: string | number): SeededRandom {
  const label = String(seed);
  let state = hashSeed(label);
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const chars = (length: number): string => {
    let out = "";
    for (let i = 0; i < length; i++) out += ALPHABET[int(0, ALPHABET.length - 1)];
    return out;
  };
  return {
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => items[int(0, items.length - 1)] as (typeof items)[number],
    chars,
    id: (prefix, length = 24) => `${prefix}_1${chars(length - 1)}`,
    fork: (sub) => createRandom(`${label}/${sub}`),
  };
}

/** Unpredictable token for codes and keys issued at run time. */
export function randomToken(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return `${prefix}_${out}`;
}

/** Stripe never echoes a whole key: `sk_test_****1234`. */
export function maskKey(key: string): string {
  const match = /^([a-z]{2,6}_(?:live_|test_)?)/.exec(key);
  const head = match?.[1] ?? "";
  return `${head}****${key.slice(-4)}`;
}
