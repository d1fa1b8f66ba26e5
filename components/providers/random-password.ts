// A generated password as a Pulumi dynamic resource, standing in for @pulumi/random (whose
// plugin cannot be obtained here). Generated once in create, kept in state as a secret, and
// stable afterwards: read and update never change it; a new length replaces it.
import * as pulumi from "@pulumi/pulumi";

export interface RandomPasswordArgs {
  /** Characters, from the URL-safe base64 alphabet (so it needs no quoting anywhere). Default 32. */
  readonly length?: pulumi.Input<number>;
}

interface State { length: number; result: string }

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    const length = news.length ?? 32;
    const ok = Number.isInteger(length) && length >= 16 && length <= 256;
    return { inputs: { ...news, length }, failures: ok ? [] : [{ property: "length", reason: `length must be an integer from 16 to 256; got ${JSON.stringify(news.length)}` }] };
  },
  async diff(_id: string, olds: State, news: State) {
    const replaces = olds.length !== news.length ? ["length"] : [];
    return { changes: replaces.length > 0, replaces };
  },
  async create(inputs: State) {
    const { randomBytes, randomUUID } = await import("node:crypto");
    const result = randomBytes(Math.ceil((inputs.length * 3) / 4)).toString("base64url").slice(0, inputs.length);
    return { id: randomUUID(), outs: { length: inputs.length, result } };
  },
  async read(id: string, props: State) {
    return { id, props };
  },
};

export class RandomPassword extends pulumi.dynamic.Resource {
  /** The password; a secret. */
  declare readonly result: pulumi.Output<string>;
  declare readonly length: pulumi.Output<number>;

  constructor(name: string, args: RandomPasswordArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { length: 32, ...args, result: undefined }, { ...opts, additionalSecretOutputs: ["result"] }, "tenancy", "RandomPassword");
  }
}
