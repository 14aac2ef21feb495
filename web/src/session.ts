// The org API key lives in this tab's sessionStorage only: gone when the tab closes, never in a cookie,
// sent by api.ts and live.ts as `Authorization: Bearer`.
const STORAGE_KEY = "stripe-connect-gateway.api-key";

type SignedOutListener = (reason: string) => void;
const listeners = new Set<SignedOutListener>();

export function readApiKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the key lasts as long as the page
  }
}

export function saveApiKey(key: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, key);
  } catch {}
}

/** Forgets the key; the app shows the sign-in form with `reason` (empty when the person signed out). */
export function signOut(reason = ""): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {}
  for (const listener of listeners) listener(reason);
}

export function onSignedOut(listener: SignedOutListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
