import {
  type AppError,
  type FieldError,
  NotFoundError,
  StripeNotConfiguredError,
  ValidationError,
} from "../../errors.ts";
import { builder } from "../builder.ts";

const ErrorInterface = builder.interfaceRef<AppError>("Error").implement({
  fields: (t) => ({ message: t.exposeString("message") }),
});

const FieldErrorRef = builder.objectRef<FieldError>("FieldError").implement({
  fields: (t) => ({
    path: t.stringList({ resolve: (error) => error.path }),
    message: t.string({ resolve: (error) => error.message }),
  }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    fieldErrors: t.field({ type: [FieldErrorRef], resolve: (error) => error.fieldErrors }),
  }),
});

builder.objectType(NotFoundError, {
  name: "NotFoundError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
});

builder.objectType(StripeNotConfiguredError, {
  name: "StripeNotConfiguredError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof StripeNotConfiguredError,
});
