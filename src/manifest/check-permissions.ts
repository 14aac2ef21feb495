import { grantCommand } from "./generate.ts";
import { STRIPE_APP_PERMISSIONS } from "./permissions.ts";
import { isObject, type ManifestProblem, problem, shown } from "./problems.ts";

const EXPECTED = new Map(STRIPE_APP_PERMISSIONS.map((entry) => [entry.permission, entry]));

/** Checks `permissions` against the setup guide's twelve: each missing, extra or purpose-less one on its own. */
export function checkPermissions(value: unknown): ManifestProblem[] {
  if (!Array.isArray(value)) {
    return [
      problem(
        "MISSING_PERMISSIONS",
        "permissions",
        value === undefined ? "permissions is missing." : `permissions must be a list, not ${shown(value)}.`,
        `Run the ${EXPECTED.size} grant commands that \`manifest generate\` prints, or generate the file anew.`,
      ),
    ];
  }
  const problems: ManifestProblem[] = [];
  const seen = new Set<string>();
  value.forEach((entry, index) => {
    const path = `permissions[${index}]`;
    if (!isObject(entry) || typeof entry.permission !== "string") {
      problems.push(
        problem(
          "INVALID_PERMISSION_ENTRY",
          path,
          `${path} must be an object {"permission": "…", "purpose": "…"}, not ${shown(entry)}.`,
          "Remove it and add permissions with `stripe apps grant permission NAME PURPOSE`.",
        ),
      );
      return;
    }
    const name = entry.permission;
    if (seen.has(name)) {
      problems.push(
        problem(
          "DUPLICATE_PERMISSION",
          path,
          `${name} is listed more than once.`,
          `Remove this second ${name} entry.`,
        ),
      );
      return;
    }
    seen.add(name);
    const expected = EXPECTED.get(name);
    if (!expected) {
      problems.push(
        problem(
          "EXTRA_PERMISSION",
          path,
          `${name} is not one of the permissions the gateway needs; merchants must approve every permission at install, and Stripe's review asks for no more than the app uses.`,
          `stripe apps revoke permission ${shown(name)}`,
        ),
      );
      return;
    }
    if (typeof entry.purpose !== "string" || entry.purpose.trim() === "") {
      problems.push(
        problem(
          "MISSING_PURPOSE",
          `${path}.purpose`,
          `${name} has no purpose: merchants read it on the install screen and Stripe's review requires one.`,
          `Set "purpose": ${shown(expected.purpose)}`,
        ),
      );
    }
  });
  for (const expected of STRIPE_APP_PERMISSIONS) {
    if (!seen.has(expected.permission)) {
      problems.push(
        problem(
          "MISSING_PERMISSION",
          "permissions",
          `${expected.permission} is missing: the gateway cannot sync without it.`,
          grantCommand(expected),
        ),
      );
    }
  }
  return problems;
}
