/** The one error type that becomes an exit code; thrown by commands, caught once in main. */
export class ExitError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

/** 3: the engine (or the database behind it) failed; the message says where the full log is. */
/** 70 (EX_SOFTWARE): a bug in the toolkit, reported as one line (TENANCY_DEBUG=1 for the stack). */
export const Exit = { Ok: 0, Violations: 1, Usage: 2, Engine: 3, Internal: 70 } as const;
