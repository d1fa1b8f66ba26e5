// Provider errors quote names from the catalogs (a procedure, a role), which a workspace role
// chooses: the message the engine prints must not carry their control or bidi characters.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createServer, type ResourceKind } from "../../provider/server.ts";

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any -- generated protobuf classes carry no useful types */
const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const provrpc: any = require("@pulumi/pulumi/proto/provider_grpc_pb.js");
const provproto: any = require("@pulumi/pulumi/proto/provider_pb.js");

describe("provider error messages", () => {
  it("reach the engine with every control and bidi character escaped, as one line", async () => {
    const name = "p\u001b[1A\u001b[2K\r\nerror: all good\u202e";
    const kind = {
      token: "tenancy:test:Thing",
      check: () => { throw new Error(`cannot drop procedure "${name}": it is in use`); },
      diff: () => ({ replaces: [], detailedDiff: {} }),
      create: async () => ({ id: "x", outs: {} }),
      read: async () => ({ id: "x", outs: {} }),
      update: async () => ({ outs: {} }),
      delete: async () => {},
    } as unknown as ResourceKind;
    const port = await createServer([kind], "0.0.0-test").serve();
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const req = new provproto.CheckRequest();
      req.setUrn("urn:pulumi:s::p::tenancy:test:Thing::x");
      const error = await new Promise<{ details: string }>((resolve) => client.check(req, (e: { details: string }) => resolve(e)));
      expect(error.details).toBe('cannot drop procedure "p\\u{1B}[1A\\u{1B}[2K\\u{0D}\\u{0A}error: all good\\u{202E}": it is in use');
    } finally {
      client.close();
    }
  });
});
