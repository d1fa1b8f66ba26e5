// The e2e tier's stacks are throwaway (temp backends, e2e-* names): their secrets may use the
// public demo passphrase. Said once here for every file, for the stacks the harnesses open and
// for the CLI commands the tests run in process or as the bin (which inherit the environment).
// A real stack without a passphrase is refused (cli/engine.ts stackPassphrase); CI's own
// PULUMI_CONFIG_PASSPHRASE, if set, is used as it is.
import { DEMO_PASSPHRASE } from "../../cli/engine.ts";

process.env.PULUMI_CONFIG_PASSPHRASE ??= DEMO_PASSPHRASE;
