// Every secret the run knows, with the one answer (if any) that shows it on purpose: createOrg shows the
// org's API key once, startStripeConnection's authorizationUrl carries the OAuth state, createAccessToken
// shows the token. Anywhere else — any other answer, any log line — is a leak.
export type Secret = { kind: string; label: string; value: string; shownIn: number | null };

export class SecretRegistry {
  private readonly secrets = new Map<string, Secret>();

  add(kind: string, label: string, value: string, shownIn: number | null = null) {
    if (!value || this.secrets.has(value)) return;
    this.secrets.set(value, { kind, label, value, shownIn });
  }

  list(): Secret[] {
    return [...this.secrets.values()];
  }
}
