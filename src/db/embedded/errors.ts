/** A problem with the embedded PostgreSQL that the user fixes: its message is one line naming the cause. */
export class EmbeddedDatabaseError extends Error {
  override name = "EmbeddedDatabaseError";
}
