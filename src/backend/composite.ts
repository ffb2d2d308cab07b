// sdfn's own kernels (SdfnBatchNormTrain, SdfnAdamStep, ...) on backends without a native version:
// each is its written-out formula in tfjs ops, registered as that backend's kernel, so callers
// run one `runKernel` whichever backend is active. The torch backend registers fused ATen
// kernels under the same names (src/backend/torch/kernels/sdfn.ts); those are never replaced.
import * as tf from "@tensorflow/tfjs";

/** A kernel's formula: tfjs ops on the active backend, returning the kernel's outputs in order. */
export type CompositeImpl = (inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap) => tf.Tensor[];

const composites = new Map<string, CompositeImpl>();

function registerOn(backendName: string, kernelName: string, impl: CompositeImpl): void {
  if (tf.getKernel(kernelName, backendName)) return;
  tf.registerKernel({
    kernelName,
    backendName,
    // tf ops inside a kernel run on the same backend and are not taped (the engine's kernel
    // depth is > 0); the engine takes returned Tensors as the kernel's outputs.
    kernelFunc: ({ inputs, attrs }) => tf.tidy(() => impl(inputs as Record<string, tf.Tensor>, attrs ?? {})),
  });
}

/** Backends tfjs knows now (registered factories), plus cpu, which always exists. */
function knownBackends(): string[] {
  const registry = (tf.engine() as unknown as { registryFactory: Record<string, unknown> }).registryFactory;
  return [...new Set(["cpu", ...Object.keys(registry)])];
}

/** Declares kernel `kernelName` with its formula, on every backend that lacks it (now and when activated). */
export function defineComposite(kernelName: string, impl: CompositeImpl): void {
  composites.set(kernelName, impl);
  for (const backend of knownBackends()) registerOn(backend, kernelName, impl);
}

/** Gives backend `backendName` the formula of every sdfn kernel it does not implement itself. */
export function registerCompositeKernels(backendName: string): void {
  for (const [kernelName, impl] of composites) registerOn(backendName, kernelName, impl);
}
