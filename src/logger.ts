import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

// Field names that may carry a secret anywhere in a logged object. pino replaces their values.
const SECRET_FIELDS = [
  "authorization",
  "apiKey",
  "secretKey",
  "webhookSigningSecret",
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "password",
  "cookie",
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: {
        paths: SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]),
        censor: "[redacted]",
      },
    },
    options.destination,
  );
}
