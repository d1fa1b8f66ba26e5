/** The one error type that becomes an exit code; thrown by commands, caught once in main. */
export class ExitError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export const Exit = { Ok: 0, Violations: 1, Usage: 2 } as const;
