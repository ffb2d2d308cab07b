// The public API of sdfn: every exported name is listed here explicitly.
export { Registry, KINDS, type Kind, type Declaration } from "./registry/registry.js";
export type * from "./registry/kinds.js";
export { ParamStore, ParamScope } from "./nn/scope.js";
export { Rng } from "./util/rng.js";
