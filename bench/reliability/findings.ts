// What earlier runs of this bench found in the gateway, and what became of it. A run's own figures are
// above this text in RELIABILITY.md; this is the record of the defects they exposed.
export const FINDINGS = `## Defects this bench found

Fixed, each with a case in \`test/integration/webhook-unstorable.test.ts\` that failed before its fix (PGlite and PostgreSQL):

1. **503 for an org id no org can have.** \`POST /stripe/webhooks/%00\` answered 503 \`EVENT_NOT_STORED\` (PostgreSQL: invalid
   byte sequence 0x00 in the signing-secret lookup), which tells Stripe to retry. Now any id outside \`[A-Za-z0-9_-]{1,64}\` is
   404 \`ORG_NOT_FOUND\` before any lookup (\`src/sync/receive-webhook.ts\`, the same rule as the route's rate-limit key).
2. **503 forever for a validly signed event holding \`\\u0000\`.** PostgreSQL's jsonb refuses the NUL character (22P05), so
   every retry failed the same way. Now 400 \`MALFORMED_EVENT\`, nothing stored.
3. **503 forever for a validly signed event nested ~100,000 levels deep** (RangeError: Maximum call stack size exceeded while
   storing it). Now a body nested past 64 levels is 400 \`MALFORMED_EVENT\`, checked in one pass over the text before parsing.
4. **503 forever for a validly signed event whose object carries a date outside years 1–9999** (\`arrival_date: 1e20\`,
   \`created: 2^53\`: Prisma "Provided Date object is invalid"). Such an object is now skipped, logged and counted like one with
   an amount past 2^53 (\`src/sync/upsert.ts\`, so the backfill does the same), and the event is stored; an event whose own
   \`created\` is outside that range is 400 \`MALFORMED_EVENT\`.
5. **An unhandled 500 for a body that stops midway** (the client goes away, or sends fewer bytes than its Content-Length):
   logged as "unhandled error in HTTP route" at error level. Now 400 \`BODY_INCOMPLETE\`, logged at info
   (\`src/http/stripe-webhook.ts\`).

Seen and left as they are (by design or for the lead to decide):

- While PostgreSQL is down, \`/graphql\` answers HTTP 500 with the masked "Unexpected error." (the API-key lookup in the
  context fails); 503 would tell clients the failure is temporary. Webhooks answer 503 as they should.
- After a SIGKILL the restarted process resumes the backfill only once the killed process's sync lease on the connection
  expires (60 s): nothing tells it the old owner is dead.
- Re-signed events for payouts the emulator does not know make the follow-up read fail ("No such payout"), logged at
  error level as "background task failed"; real Stripe only signs events of objects it has.`;
