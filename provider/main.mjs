// Entry of the plugin process: TypeScript runs in place through tsx, as everywhere in the toolkit.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
