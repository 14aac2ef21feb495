import type {
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  Transaction,
} from "@prisma/driver-adapter-utils";

/**
 * Called before every statement the client sends, COMMIT included. Throwing fails that
 * statement as a lost connection would: fault tests use it to stop "the process" between any two. A
 * returned promise holds the statement back until it settles (tests force interleavings with it).
 */
export type BeforeStatement = (sql: string) => void | Promise<void>;

type Queryable = { queryRaw(q: SqlQuery): Promise<unknown>; executeRaw(q: SqlQuery): Promise<number> };

const ROLLBACK: SqlQuery = { sql: "ROLLBACK", args: [], argTypes: [] };

/** `target` with some methods replaced; everything else is the target's own, bound to it. */
function override<T extends object>(target: T, replaced: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(replaced, property)) return replaced[property as keyof T];
      const value = Reflect.get(object, property, object);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}

/**
 * Runs `hook` before each query. Inside a transaction a failed hook also rolls the transaction back, as
 * the server does when the connection drops: the adapter would otherwise return it to the pool open.
 */
function hooked<T extends Queryable>(
  target: T,
  hook: BeforeStatement,
  inTransaction: boolean,
  more: Partial<Record<keyof T, unknown>> = {},
): T {
  const guard = async (sql: string) => {
    try {
      await hook(sql);
    } catch (error) {
      if (inTransaction) await target.executeRaw(ROLLBACK).catch(() => {});
      throw error;
    }
  };
  return override(target, {
    queryRaw: async (query: SqlQuery) => {
      await guard(query.sql);
      return target.queryRaw(query);
    },
    executeRaw: async (query: SqlQuery) => {
      await guard(query.sql);
      return target.executeRaw(query);
    },
    ...more,
  } as Partial<Record<keyof T, unknown>>);
}

/** Wraps a driver adapter factory so that `hook` sees every statement before it runs. */
export function withStatementHook(
  factory: SqlDriverAdapterFactory,
  hook: BeforeStatement,
): SqlDriverAdapterFactory {
  return override(factory, {
    connect: async () => {
      const adapter = await factory.connect();
      return hooked<SqlDriverAdapter>(adapter, hook, false, {
        // adapter-pg sends BEGIN and COMMIT as statements of the transaction, so the hook sees them too.
        startTransaction: async (...args: Parameters<SqlDriverAdapter["startTransaction"]>) =>
          hooked<Transaction>(await adapter.startTransaction(...args), hook, true),
      });
    },
  });
}
