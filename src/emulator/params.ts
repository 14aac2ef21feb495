export type ParamValue = string | string[] | Record<string, string>;
export type Params = Map<string, ParamValue>;

/**
 * Stripe's form/query encoding: `created[gte]=1` is a hash, `expand[]=a` / `expand[0]=a` an array.
 */
export function parseParams(entries: URLSearchParams): Params {
  const params: Params = new Map();
  for (const [rawKey, value] of entries) {
    const match = /^([^[\]]+)\[([^[\]]*)\]$/.exec(rawKey);
    if (!match) {
      params.set(rawKey, value);
      continue;
    }
    const [, name = "", sub = ""] = match;
    const existing = params.get(name);
    if (sub === "" || /^\d+$/.test(sub)) {
      const list = Array.isArray(existing) ? existing : [];
      if (sub === "") list.push(value);
      else list[Number(sub)] = value;
      params.set(name, list);
    } else {
      const hash = existing && typeof existing === "object" && !Array.isArray(existing) ? existing : {};
      hash[sub] = value;
      params.set(name, hash);
    }
  }
  for (const [name, value] of params)
    if (Array.isArray(value))
      params.set(
        name,
        value.filter((v) => v !== undefined),
      );
  return params;
}

export function stringParam(params: Params, name: string): string | undefined {
  const value = params.get(name);
  return typeof value === "string" ? value : undefined;
}

/** Reads a form-encoded request body (what Stripe's endpoints take) into the query-string shape. */
export async function readFormParams(request: Request): Promise<Params> {
  return parseParams(new URLSearchParams(await request.text()));
}
