// CUDA-graph replay of a compiled step's forward and backward pass (training.cuda_graph). Only a
// CUDA build has it: build.mjs defines SDFN_CUDA_GRAPH when it builds against a CUDA libtorch and
// finds the CUDA headers; every other build compiles the stubs below, which never capture.
#pragma once
#include <ATen/ATen.h>
#include <node_api.h>

#include <functional>
#include <memory>
#include <vector>

namespace sdfn {

// Whether replays on CUDA use graphs (setCudaGraph; false whenever the build cannot).
bool cuda_graph_enabled();
// True while a graph is being captured: the step generator must not be reseeded then.
bool cuda_graph_capturing();

// The first kernels of one program (up to the loss readback) as one CUDA graph. The first run is
// a warm-up (plain, on the capture stream); the second copies the slots read from outside
// (batch, state) into static buffers, captures into a private memory pool and replays; later
// runs refill the static buffers (device copies, or pinned host staging for CPU tensors,
// non_blocking) and replay. A capture that throws turns the graph off for good (said once).
class StepGraph {
 public:
  StepGraph();
  ~StepGraph();
  // Graphed: the kernels ran as the graph (slots they leave hold graph memory); Plain: they ran
  // as usual; NotRun: a capture failed, the slots are unusable: bind them again and run plainly.
  enum class Ran { Graphed, Plain, NotRun };
  Ran run(std::vector<at::Tensor>& slots, const std::vector<int32_t>& external, const std::function<void()>& kernels);

  struct Impl;  // the graph, its stream and static buffers (cuda-graph.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

// setCudaGraph(on: boolean) → whether replays will use CUDA graphs (a CUDA build on a CUDA device).
napi_value SetCudaGraph(napi_env env, napi_callback_info info);

}  // namespace sdfn
