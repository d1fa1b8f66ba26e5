// Types for resolve.mjs (plain JavaScript so it runs before anything is installed or built).
export interface Toolchain {
  /** Absolute path of the `pulumi` binary. */
  readonly pulumiBin: string;
  /** PATH (toolchain first), PULUMI_HOME, and the no-download switches for the engine. */
  readonly env: Record<string, string>;
  readonly versions: { readonly pulumi: string; readonly languageHost: string; readonly plugins: unknown };
}

export function resolveToolchain(options?: { log?: (line: string) => void; offline?: boolean }): Promise<Toolchain>;
