/** The emulator's notion of time. Defaults to wall time; tests move it with `advance`. */
export interface EmulatorClock {
  /** Milliseconds since the epoch on the emulator's clock. */
  now(): number;
  /** Unix seconds, as Stripe uses them. */
  seconds(): number;
  advance(ms: number): void;
  set(ms: number): void;
}

export interface ClockOptions {
  /** Start time in ms (default: wall time). */
  start?: number;
  /** When true the clock only moves through `advance` / `set`. */
  frozen?: boolean;
}

export function createClock(options: ClockOptions = {}): EmulatorClock {
  const frozen = options.frozen ?? false;
  let offset = (options.start ?? Date.now()) - Date.now();
  let fixed = options.start ?? Date.now();
  const now = (): number => (frozen ? fixed : Date.now() + offset);
  return {
    now,
    seconds: () => Math.floor(now() / 1000),
    advance(ms) {
      if (ms < 0) throw new RangeError("The emulator clock only moves forward");
      offset += ms;
      fixed += ms;
    },
    set(ms) {
      if (ms < now()) throw new RangeError("The emulator clock only moves forward");
      offset = ms - Date.now();
      fixed = ms;
    },
  };
}
