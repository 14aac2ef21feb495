// Where a process's CPU went in a time window, from a V8 .cpuprofile (node --cpu-prof): self time by
// package or source file, and the gateway's own functions by inclusive time. V8 stamps samples with the
// monotonic clock that process.hrtime reads, so the window is given in process.hrtime microseconds.
import { readFile } from "node:fs/promises";

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
};

export type ProfileSummary = {
  /** Milliseconds of samples in the window (busy and idle) */
  sampledMs: number;
  /** …of which not idle */
  busyMs: number;
  /** Self time by where the code lives: a package, node's internals, a source file, GC, … */
  byPlace: { place: string; ms: number }[];
  /** Functions of the project's own src/ by inclusive time (their callees included) */
  ownInclusive: { fn: string; ms: number }[];
};

/** `node_modules/<package>`, `node:<module>`, the project-relative source file, or V8's own categories. */
function place(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith("node:")) return url;
  const src = url.indexOf("/src/");
  return src >= 0 ? url.slice(src + 1) : url;
}

export async function summariseProfile(file: string, fromUs: number, toUs: number): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let sampledUs = 0;
  let idleUs = 0;
  let time = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if (time < fromUs || time > toUs) continue;
    // A sample stands for the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    sampledUs += weight;
    const node = byId.get(profile.samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === "(idle)") {
      idleUs += weight;
      continue;
    }
    const where = place(node.callFrame.url, name);
    self.set(where, (self.get(where) ?? 0) + weight);
    // Each of the project's functions on the stack, once per sample.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const file = place(frame.url, frame.functionName);
      if (!file.startsWith("src/")) continue;
      const fn = `${frame.functionName || "(anonymous)"} (${file}:${frame.lineNumber + 1})`;
      if (seen.has(fn)) continue;
      seen.add(fn);
      inclusive.set(fn, (inclusive.get(fn) ?? 0) + weight);
    }
  }
  const sorted = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([key, us]) => [key, us / 1000] as const);
  return {
    sampledMs: sampledUs / 1000,
    busyMs: (sampledUs - idleUs) / 1000,
    byPlace: sorted(self).map(([where, ms]) => ({ place: where, ms })),
    ownInclusive: sorted(inclusive).map(([fn, ms]) => ({ fn, ms })),
  };
}
