// The engine's policy-pack runner `require`s this file and awaits what it exports. It registers
// ts-node with type checking for `.ts` requires (hard-coded in @pulumi/pulumi's run-policy-pack),
// so the TypeScript pack is loaded through import(), which tsx (PulumiPolicy.yaml nodeargs) runs.
module.exports = import("./index.ts");
