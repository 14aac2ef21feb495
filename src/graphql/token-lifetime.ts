// A browser access token's subscriptions end with the token: at its expiry, or as soon as it is revoked
// (on any instance: the revocation's cache invalidation reaches every instance through the pubsub).
import type { Plugin } from "graphql-yoga";
import type { Deps } from "../deps.ts";
import type { AccessGrant } from "../orgs/cache.ts";
import { isLive } from "./auth.ts";
import type { Context } from "./context.ts";

type LifetimeDeps = Pick<Deps, "cache" | "clock" | "pubsub">;

export function useAccessTokenLifetime(deps: LifetimeDeps): Plugin<Context> {
  return {
    onSubscribe: ({ args }) => {
      const credential = (args.contextValue as Context).credential;
      if (credential?.kind !== "accessToken") return;
      return {
        onSubscribeResult: ({ result, setResult }) => {
          if (!isAsyncIterable(result)) return;
          setResult(untilTokenEnds(deps, credential.grant, result));
        },
      };
    },
  };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value;

/** `source`, ended (and its listener released) when the grant expires or stops being granted. */
function untilTokenEnds<T>(
  deps: LifetimeDeps,
  grant: AccessGrant,
  source: AsyncIterable<T>,
): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  let end!: () => void;
  const endedResult = new Promise<IteratorResult<T>>((resolve) => {
    end = () => resolve({ done: true, value: undefined });
  });
  const timer = setTimeout(
    () => finish(),
    Math.max(0, grant.expiresAt.getTime() - deps.clock.now().getTime()),
  );
  const stopListening = deps.pubsub.listen("cache:invalidate", (invalidation) => {
    const concerned =
      (invalidation?.kind === "accessToken" && invalidation.key === grant.id) ||
      (invalidation?.kind === "org" && invalidation.key === grant.org.id);
    if (!concerned) return;
    // A change of the token (another connection joined it) is not its end: read it again to tell.
    deps.cache.accessGrantById(grant.id).then(
      (now) => {
        if (!now || !isLive(now, deps.clock.now())) finish();
      },
      () => finish(),
    );
  });

  function finish() {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    stopListening();
    end();
    void iterator.return?.();
  }

  return {
    next: () => (ended ? endedResult : Promise.race([iterator.next(), endedResult])),
    return: async () => {
      finish();
      return { done: true, value: undefined };
    },
    throw: async (error) => {
      finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
