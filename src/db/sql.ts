/** A PostgreSQL identifier (table or column name), quoted. */
export const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
