/**
 * The Prisma delegate of a model named at run time (by the resource registry): `prisma.stripePayout`.
 * `T` is the part of the delegate the caller uses; the registry's test checks every model exists.
 */
export function delegateOf<T>(prisma: object, model: string): T {
  const delegate = (prisma as Record<string, unknown>)[model];
  if (!delegate) throw new Error(`No Prisma model ${model}`);
  return delegate as T;
}
