import { z } from "zod";
import { ValidationError } from "../errors.ts";

const name = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

/** An org's or an API key's name (`input.name`), trimmed; a ValidationError naming the field otherwise. */
export function checkedName(value: string): string {
  const parsed = name.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((issue) => ({ path: ["input", "name"], message: issue.message })),
    );
  }
  return parsed.data;
}
