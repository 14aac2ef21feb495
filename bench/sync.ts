/**
 * Backfill throughput: objects stored per second from the emulator over real HTTP, under the real
 * per-connection budget (12.5 requests/s in test mode). Reported against what that budget permits for
 * list pages (12.5 × 100 objects/s); reconciling each payout costs one request of its own on top.
 * Run: npx tsx bench/sync.ts   (about 30 s)
 */
import { BUDGET_PER_SECOND } from "../src/stripe/rate-budget.ts";
import { startBenchWorld } from "./setup.ts";

const started = performance.now();
const world = await startBenchWorld({ payouts: 150, chargesPerPayout: 6 });
const setupDone = performance.now();
await world.deps.sync.idle();
const seconds = (performance.now() - setupDone) / 1000;
const states = await world.deps.db.prisma.stripeSyncState.findMany();
const objects = states.reduce((sum, state) => sum + state.objectsSynced, 0);
const perSecond = objects / seconds;
const ceiling = BUDGET_PER_SECOND.test * 100;
console.log(`backfill: ${objects} objects in ${seconds.toFixed(1)} s = ${perSecond.toFixed(0)} objects/s`);
console.log(
  `ratio to the budget's list-page ceiling (${ceiling} objects/s): ${(perSecond / ceiling).toFixed(2)} (setup ${((setupDone - started) / 1000).toFixed(1)} s)`,
);
await world.close();
process.exit(0);
