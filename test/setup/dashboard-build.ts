// Vitest globalSetup: builds the dashboard (web/) once per run when its inputs changed, as `npm start`
// does at start-up, so that the gateways the tests start serve it (a few milliseconds when up to date).
import { buildDashboard } from "../../src/dashboard/build.ts";

export default async function setup() {
  const result = await buildDashboard();
  if (result.built) console.log(`dashboard built in ${result.ms} ms`);
}
