// `npm run build:dashboard`: builds the dashboard (web/) now, as `npm start` would at start-up.
import { buildDashboard } from "../src/dashboard/build.ts";

const result = await buildDashboard();
console.log(
  result.built
    ? `dashboard built in ${result.ms} ms: ${result.dir}`
    : `dashboard up to date (${result.ms} ms): ${result.dir}`,
);
