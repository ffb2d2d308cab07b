// The step's random kernels (src/backend/torch/kernels/sdfn.ts, family "random" in layouts.json):
// dropout masks from one generator that every training step reseeds (seedStep before an eager step,
// each replay with the same seed), so eager steps and replays draw the same masks, and a resumed run
// the masks of an uninterrupted one.
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

#include "../cuda-graph.h"
#include "../handles.h"
#include "../ops.h"

namespace sdfn {
namespace {

at::Generator step_generator;
// The step's seed and how many masks it has drawn: each mask is drawn from its own seed, so its
// values never depend on the sizes of earlier masks (a text-length bucket pads some of them).
uint64_t step_seed = 0, step_masks = 0;

// splitmix64: the seed of the step's k-th mask.
uint64_t mask_seed(uint64_t seed, uint64_t k) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (k + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// SdfnDropoutMask: 1/(1 − rate) where kept, 0 where dropped (as tf.dropout), of the given shape.
void dropout_mask(Call& c) {
  using K = arg::SdfnDropoutMask;
  if (!step_generator.defined()) seed_step(0);
  double keep = 1 - c.f[K::f_rate];
  at::Tensor mask = at::empty(ivec(c.i + K::i_shape, c.i[K::i_rank]), c.opts(at::kFloat));
  if (!cuda_graph_capturing()) {  // a graph's masks follow the step seed (seed_step); reseeding inside a capture is refused
    std::lock_guard<std::mutex> lock(step_generator.mutex());
    step_generator.set_current_seed(mask_seed(step_seed, step_masks++));
  }
  mask.bernoulli_(keep, step_generator);
  c.out.push_back(mask.div_(keep));
}

}  // namespace

void seed_step(uint64_t seed) {
  at::Device device = working_device();
  if (device.is_cuda()) {
    step_generator = at::globalContext().defaultGenerator(device);
  } else if (!step_generator.defined()) {
    step_generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  }
  step_seed = seed;
  step_masks = 0;
  // A CUDA graph draws its masks from the generator's seed at replay time (one stream for the step).
  if (device.is_cuda()) {
    std::lock_guard<std::mutex> lock(step_generator.mutex());
    step_generator.set_current_seed(seed);
  }
}

std::vector<OpEntry> random_ops() { return {OP("SdfnDropoutMask", dropout_mask)}; }

}  // namespace sdfn
