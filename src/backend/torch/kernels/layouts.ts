// The kernel layout table (layouts.json) on the TypeScript side: every native kernel's declared
// argument layout, and the check that an addon was compiled against this table.
import { type KernelLayout, readLayouts } from "./layout-spec.mjs";

export type { KernelLayout } from "./layout-spec.mjs";

let table: ReadonlyMap<string, KernelLayout & { family: string }> | undefined;

/** Every kernel of layouts.json by name (read once). */
export function kernelLayouts(): ReadonlyMap<string, KernelLayout & { family: string }> {
  table ??= new Map(readLayouts().map((l) => [l.kernel, l]));
  return table;
}

/** The kernels among `kernels` whose layout in the addon differs from layouts.json (a stale build). */
export function staleLayouts(native: { layout(kernel: string): string | undefined }, kernels: readonly string[]): string[] {
  const layouts = kernelLayouts();
  return [...new Set(kernels)].filter((k) => native.layout(k) !== (layouts.get(k)?.text ?? ""));
}
