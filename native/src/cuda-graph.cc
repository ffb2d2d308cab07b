// CUDA-graph replay of a compiled step (cuda-graph.h). Compiled to stubs unless build.mjs found a
// CUDA libtorch and the CUDA headers (SDFN_CUDA_GRAPH), so a CPU build is unchanged.
#include "cuda-graph.h"

#include <cstdio>
#include <string>

#include "handles.h"
#include "napi.h"

#if defined(SDFN_CUDA_GRAPH) && __has_include(<ATen/cuda/CUDAGraph.h>)
#define SDFN_HAS_CUDA_GRAPH 1
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#else
#define SDFN_HAS_CUDA_GRAPH 0
#endif

namespace sdfn {
namespace {
bool requested = false;  // setCudaGraph(true) was called
bool capturing = false;
}  // namespace

bool cuda_graph_capturing() { return capturing; }

#if SDFN_HAS_CUDA_GRAPH

bool cuda_graph_enabled() { return requested && working_device().is_cuda(); }

struct StepGraph::Impl {
  int runs = 0;
  bool failed = false;
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool(false);
  std::vector<std::pair<int32_t, at::Tensor>> inputs;   // slot → its static device buffer
  std::vector<at::Tensor> staging;                      // per input: pinned host buffer when the slot's tensor is on the CPU
  std::vector<std::pair<int32_t, at::Tensor>> outputs;  // slots the captured kernels leave defined → their graph memory
};

namespace {

// Copies this step's external slots into the static buffers the graph reads, and points the slots at them.
void fill(StepGraph::Impl& g, std::vector<at::Tensor>& s) {
  for (size_t k = 0; k < g.inputs.size(); ++k) {
    auto& [slot, buffer] = g.inputs[k];
    const at::Tensor& src = s[slot];
    if (!src.defined()) throw std::runtime_error("sdfn torch: a CUDA graph input slot is empty");
    if (!src.is_same(buffer)) {
      if (src.is_cuda()) {
        buffer.copy_(src, /*non_blocking=*/true);
      } else {
        g.staging[k].copy_(src);  // pageable → pinned (host), then pinned → device without blocking
        buffer.copy_(g.staging[k], /*non_blocking=*/true);
      }
    }
    s[slot] = buffer;
  }
}

// Ends a capture that failed part way, so the stream and the caching allocator are usable again.
void abandon_capture(StepGraph::Impl& g) {
  try {
    g.graph.capture_end();
  } catch (...) {
    // an invalidated capture throws here; what matters is that it ended
  }
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(g.stream.stream(), &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
    cudaGraph_t partial = nullptr;
    cudaStreamEndCapture(g.stream.stream(), &partial);
    if (partial) cudaGraphDestroy(partial);
  }
  cudaGetLastError();  // clear the sticky error a refused call inside the capture left
}

void give_up(StepGraph::Impl& g, const std::string& why) {
  static bool said = false;
  g.failed = true;
  if (!said) std::fprintf(stderr, "sdfn torch: CUDA graph capture failed (%s); replaying without a graph\n", why.c_str());
  said = true;
}

StepGraph::Ran capture(StepGraph::Impl& g, std::vector<at::Tensor>& s, const std::vector<int32_t>& external,
                       const std::function<void()>& kernels) {
  const at::Device device = working_device();
  g.inputs.clear();
  g.staging.clear();
  for (int32_t x : external) {
    if (!s[x].defined()) continue;
    const at::Tensor& src = s[x];
    g.inputs.emplace_back(x, at::empty(src.sizes(), src.options().device(device)));
    g.staging.push_back(src.is_cuda() ? at::Tensor() : at::empty(src.sizes(), src.options().pinned_memory(true)));
  }
  fill(g, s);
  std::vector<at::Tensor> before(s);  // to tell the slots the kernels write from those bound before
  c10::cuda::getCurrentCUDAStream().synchronize();
  std::string failure;
  {
    c10::cuda::CUDAStreamGuard guard(g.stream);
    try {
      g.graph.capture_begin(at::cuda::graph_pool_handle());
      capturing = true;
      kernels();
      capturing = false;
      g.graph.capture_end();
    } catch (const c10::Error& e) {
      failure = e.what_without_backtrace();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    capturing = false;
    if (!failure.empty()) abandon_capture(g);
  }
  if (!failure.empty()) {
    give_up(g, failure);
    return StepGraph::Ran::NotRun;
  }
  g.outputs.clear();
  for (size_t k = 0; k < s.size(); ++k)
    if (s[k].defined() && !s[k].is_same(before[k])) g.outputs.emplace_back(static_cast<int32_t>(k), s[k]);
  g.graph.replay();  // the capture recorded the kernels without running them
  return StepGraph::Ran::Graphed;
}

}  // namespace

StepGraph::StepGraph() : impl_(std::make_unique<Impl>()) {}
StepGraph::~StepGraph() = default;

StepGraph::Ran StepGraph::run(std::vector<at::Tensor>& s, const std::vector<int32_t>& external, const std::function<void()>& kernels) {
  Impl& g = *impl_;
  if (g.failed) {
    kernels();
    return Ran::Plain;
  }
  const int run = g.runs++;
  if (run == 0) {
    // warm-up on the capture stream: lazy initialisation (cuBLAS workspaces, ...) happens outside the capture
    c10::cuda::getCurrentCUDAStream().synchronize();
    {
      c10::cuda::CUDAStreamGuard guard(g.stream);
      kernels();
    }
    g.stream.synchronize();
    return Ran::Plain;
  }
  if (run == 1) return capture(g, s, external, kernels);
  fill(g, s);
  g.graph.replay();
  for (auto& [slot, t] : g.outputs) s[slot] = t;
  return Ran::Graphed;
}

#else  // no CUDA graphs in this build: replays run their kernels as usual

bool cuda_graph_enabled() { return false; }

struct StepGraph::Impl {};
StepGraph::StepGraph() = default;
StepGraph::~StepGraph() = default;
StepGraph::Ran StepGraph::run(std::vector<at::Tensor>&, const std::vector<int32_t>&, const std::function<void()>& kernels) {
  kernels();
  return Ran::Plain;
}

#endif

napi_value SetCudaGraph(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  bool on = false;
  if (argc >= 1) napi_get_value_bool(env, argv[0], &on);
  requested = on;
  napi_value v;
  napi_get_boolean(env, cuda_graph_enabled(), &v);
  return v;
}

}  // namespace sdfn
