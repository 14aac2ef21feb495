/** The model (table, and GraphQL type) name of a Prisma delegate name: "stripePayout" → "StripePayout". */
export function modelNameOf<Delegate extends string>(delegate: Delegate): Capitalize<Delegate> {
  return `${delegate[0]!.toUpperCase()}${delegate.slice(1)}` as Capitalize<Delegate>;
}

/**
 * The Prisma delegate of a model named at run time (by the resource registry): `prisma.stripePayout`.
 * `T` is the part of the delegate the caller uses; the registry's test checks every model exists.
 */
export function delegateOf<T>(prisma: object, model: string): T {
  const delegate = (prisma as Record<string, unknown>)[model];
  if (!delegate) throw new Error(`No Prisma model ${model}`);
  return delegate as T;
}
