// The first backfill of a connection against the emulator, from the OAuth callback to READY (every list
// resource stored), under the gateway's own per-connection budget (12.5 requests/s in test mode):
// objects stored per second. Each round is a fresh gateway, database and emulator.
import { startChild } from "./child.ts";
import type { ScratchDatabases } from "./databases.ts";
import { median, settings } from "./measure.ts";
import type { BackfillResult, GatewayInfo } from "./servers/gateway.ts";

export type Backfill = { objectsPerSecond: number; rounds: BackfillResult[] };

export async function measureBackfill(databases: ScratchDatabases | null): Promise<Backfill> {
  const rounds: BackfillResult[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const database = databases ? await databases.create() : null;
    try {
      const gateway = await startChild<GatewayInfo>("gateway.ts", {
        BENCH_MODE: "backfill",
        BENCH_DATABASE_URL: database?.url,
        BENCH_PAYOUTS: String(settings.backfillPayouts),
        BENCH_CHARGES: String(settings.backfillCharges),
        BENCH_BACKFILL_TIMEOUT: String(settings.backfillTimeout),
      });
      await gateway.stop();
      const result = gateway.info.backfill!;
      if (result.notDone.length > 0 && result.ready)
        throw new Error(`READY with list resources not stored: ${result.notDone.join(", ")}`);
      rounds.push(result);
    } finally {
      await database?.drop();
    }
  }
  return { objectsPerSecond: median(rounds.map((round) => round.objects / round.seconds)), rounds };
}
