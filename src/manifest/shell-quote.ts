/**
 * Quotes one argument for a POSIX shell. Double quotes keep the command readable as the setup guide
 * writes it; a `!` switches to single quotes, because interactive bash expands `!` inside double
 * quotes and a backslash before it would stay in the text.
 */
export function shellQuote(value: string): string {
  if (value.includes("!")) return `'${value.replaceAll("'", `'\\''`)}'`;
  return `"${value.replace(/["\\$`]/g, "\\$&")}"`;
}
