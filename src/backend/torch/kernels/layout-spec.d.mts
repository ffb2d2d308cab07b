// Types of layout-spec.mjs (the kernel layout table reader shared with native/build.mjs).
export interface LayoutInput {
  name: string;
  optional: boolean;
  list: boolean;
}
export interface LayoutInt {
  name: string;
  length?: { factor: number; of: string };
}
export interface KernelLayout {
  kernel: string;
  inputs: LayoutInput[];
  ints: LayoutInt[];
  floats: { name: string }[];
  /** The canonical layout text ("inputs | ints | floats"). */
  text: string;
}
export const layoutsPath: string;
export function parseLayout(kernel: string, text: string): KernelLayout;
export function formatLayout(layout: Pick<KernelLayout, "inputs" | "ints" | "floats">): string;
export function readLayouts(path?: string): (KernelLayout & { family: string })[];
export function callMismatch(layout: KernelLayout, nInputs: number, ints: ArrayLike<number>, nFloats: number): string | undefined;
export function cppHeader(layouts: KernelLayout[]): string;
