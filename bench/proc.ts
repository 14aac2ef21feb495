// Linux /proc readings for bench/cost.ts: a process tree, its memory (RSS and PSS) and its CPU time.
import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat. */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

type Stat = { pid: number; ppid: number; ticks: number; childTicks: number };

/** utime + stime (all threads) and cutime + cstime (children it has reaped), in clock ticks. */
async function readStat(pid: number): Promise<Stat | null> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  if (!text) return null;
  // The command name is in parentheses and may hold spaces: the fields start after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  const field = (n: number) => Number(fields[n - 3]);
  return { pid, ppid: field(4), ticks: field(14) + field(15), childTicks: field(16) + field(17) };
}

/** The live processes among `roots` and all their descendants (by ppid, from a scan of /proc). */
export async function processTree(roots: number[]): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readStat(Number(name));
    if (!stat) continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
  }
  const found = new Set<number>();
  const queue = roots.filter((pid) => isAlive(pid));
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...found];
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export type ProcessMemory = { pid: number; name: string; rssKb: number; pssKb: number };
export type Memory = { rssKb: number; pssKb: number; processes: ProcessMemory[] };

const kbOf = (text: string, key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);

/**
 * VmRSS (each process's resident pages, shared ones counted in every process that maps them) and PSS
 * (each shared page divided among the processes that map it: their sum is what the group really uses).
 */
export async function memoryOf(pids: number[]): Promise<Memory> {
  const processes: ProcessMemory[] = [];
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8").catch(() => null);
    if (!status || !rollup) continue; // exited meanwhile
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => ""))
      .replaceAll("\0", " ")
      .trim();
    const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?";
    processes.push({
      pid,
      name: cmdline.startsWith("postgres:") ? cmdline.slice(0, 48) : comm,
      rssKb: kbOf(status, "VmRSS"),
      pssKb: kbOf(rollup, "Pss"),
    });
  }
  return {
    rssKb: processes.reduce((sum, p) => sum + p.rssKb, 0),
    pssKb: processes.reduce((sum, p) => sum + p.pssKb, 0),
    processes,
  };
}

/**
 * CPU milliseconds used so far by `pids` (all their threads), plus what the `reapers` among them have
 * collected from children that exited (a PostgreSQL backend that ends is counted in its postmaster's
 * cutime): the difference of two readings is the group's CPU in between, exited processes included.
 */
export async function cpuMs(pids: number[], reapers: number[] = []): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readStat(pid);
    if (!stat) continue;
    ticks += stat.ticks + (reapers.includes(pid) ? stat.childTicks : 0);
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

/**
 * CPU milliseconds of the threads of `pid` so far: `main` (the thread whose id is the pid) and the others
 * by name (Node's threads are mostly all called `node`; libuv's workers share one name).
 */
export async function threadCpuMs(pid: number): Promise<Record<string, number>> {
  const byName: Record<string, number> = {};
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tasks) {
    const text = await readFile(`/proc/${pid}/task/${tid}/stat`, "utf8").catch(() => null);
    if (!text) continue;
    const name =
      tid === String(pid) ? "main" : `other ${text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"))}`;
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
    byName[name] = (byName[name] ?? 0) + (ticks * 1000) / CLOCK_TICKS;
  }
  return byName;
}
