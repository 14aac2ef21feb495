/** A failure injected into the next matching requests (Stripe API and OAuth paths). */
export type FaultInput =
  | { kind: "error"; status?: 500 | 502 | 503; count?: number; pathPrefix?: string }
  | { kind: "latency"; ms: number; count?: number; pathPrefix?: string }
  | { kind: "drop"; count?: number; pathPrefix?: string }
  /** The request is fully processed (a code consumed, a token rotated), then the answer is lost. */
  | { kind: "drop_response"; count?: number; pathPrefix?: string };

interface Fault {
  input: FaultInput;
  remaining: number;
}

export interface FaultDecision {
  latencyMs: number;
  /** Status of an injected Stripe `api_error`, if any. */
  errorStatus: number | null;
  /** Drop the connection before the request is processed. */
  drop: boolean;
  /** Process the request, then drop the connection instead of answering. */
  dropResponse: boolean;
}

export class FaultInjector {
  private faults: Fault[] = [];

  add(input: FaultInput): void {
    const count = input.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError("count must be a positive integer");
    if (input.kind === "latency" && !(input.ms >= 0))
      throw new RangeError("ms must be a non-negative number");
    this.faults.push({ input, remaining: count });
  }

  clear(): void {
    this.faults = [];
  }

  pending(): Array<FaultInput & { remaining: number }> {
    return this.faults.map((fault) => ({ ...fault.input, remaining: fault.remaining }));
  }

  /** Consumes the faults that apply to this request path. */
  take(path: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, errorStatus: null, drop: false, dropResponse: false };
    for (const fault of this.faults) {
      if (fault.input.pathPrefix && !path.startsWith(fault.input.pathPrefix)) continue;
      const { input } = fault;
      if (input.kind === "latency") decision.latencyMs += input.ms;
      else if (decision.errorStatus !== null || decision.drop || decision.dropResponse) continue;
      else if (input.kind === "drop") decision.drop = true;
      else if (input.kind === "drop_response") decision.dropResponse = true;
      else decision.errorStatus = input.status ?? 500;
      fault.remaining -= 1;
    }
    this.faults = this.faults.filter((fault) => fault.remaining > 0);
    return decision;
  }
}
