/** Exit codes, documented in README.md. */
export const EXIT = {
  ok: 0,
  failure: 1, // a step or check failed (bad signature, build failed, a check failed)
  usage: 2, // bad flags or bad input values
  preflight: 3, // the machine is not ready (not root, not apt-based, another MTA present)
  busy: 75, // another labctl holds the lock (EX_TEMPFAIL: try again later, or give --wait)
} as const;

/**
 * The one error type labctl throws for expected failures: a plain message, a hint telling the
 * user what to do, and the exit code. The CLI prints it as one or two lines, no stack trace.
 */
export class LabError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

export const usageError = (message: string, hint?: string) => new LabError(message, hint, EXIT.usage);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
