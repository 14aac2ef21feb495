import type { Context as HonoContext } from "hono";
import type { Deps } from "../deps.ts";

export function handleHealthz(c: HonoContext) {
  return c.json({ status: "ok" });
}

/** Ready when every backing service answers; 503 names the one that does not. */
export function createReadyzHandler(deps: Pick<Deps, "db" | "pubsub">) {
  return async (c: HonoContext) => {
    const checks: Record<string, "ok" | "down"> = {};
    checks.database = await deps.db.ping().then(
      () => "ok" as const,
      () => "down" as const,
    );
    if (deps.pubsub.kind === "redis") {
      checks.redis = await deps.pubsub.ping().then(
        () => "ok" as const,
        () => "down" as const,
      );
    }
    const ready = Object.values(checks).every((status) => status === "ok");
    return c.json({ status: ready ? "ok" : "unavailable", checks }, ready ? 200 : 503);
  };
}
