// A compiled step or forward, native side. src/backend/torch/replay/ records one eager run at the
// backend's exec seam, plans it (which slot dies after which kernel) and sends it here once,
// encoded; program-decode.cc reads it into a Program, program.cc replays it, program-napi.cc is
// its N-API surface (programCreate, programReplay, ...).
#pragma once
#include <node_api.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "cuda-graph.h"
#include "ops.h"

namespace sdfn {

struct Kernel {
  int32_t op = 0;
  std::vector<int32_t> in, ints, out;  // slots (-1: absent input), attributes, outputs
  // Slots whose last use is this kernel (the memory plan): released from the slot table as the
  // kernel starts (the call then holds its inputs alone) or, for outputs no kernel reads, after it.
  std::vector<int32_t> release;
  std::vector<double> floats;
  std::vector<std::pair<int32_t, int32_t>> bound;  // float attribute index ← step scalar index
  // The kernel may write into its first `overwrite` inputs (OpEntry::overwrites) when, at run time,
  // nothing but the call (and `holders` − 1 other owners: the handle table, for state) holds them.
  int32_t overwrite = 0, holders = 1;
  bool update = false;  // an update of state (counted as such in the stats)
};

struct State {
  int32_t in, out, made_at;  // slot read at the start (-1: none), slot bound back (-1: none), kernel making `out`
};

struct Program {
  int32_t slots = 0, result = -1, result_at = 0, guard = 0, scalars = 0;  // result -1: no readback, no finite check
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;  // slots a replay hands back as new handles (an inference forward's embeddings)
  std::vector<State> states;
  // States made by kernel k after the loss readback (the update), bound back right after k runs:
  // the old value's storage is then freed where the eager step disposed it, not held to the end.
  std::vector<std::vector<int32_t>> bind_after;
  std::vector<std::pair<int32_t, at::Tensor>> constants;
  std::vector<Kernel> code;
  std::vector<at::Tensor> slot;  // replay storage, emptied after every replay
  // training.cuda_graph: the kernels before the loss readback as one CUDA graph, which reads the
  // slots in `external` (inputs, state) from static buffers; made at the first replay that may use it.
  std::unique_ptr<StepGraph> graph;
  std::vector<int32_t> external;
  // For the bench and tests: kernels the plan lets update state in place, and others it lets write
  // into a dying input; replays; nanoseconds in all of them and inside the kernels' ATen calls;
  // updates run in place; other kernels that wrote into an input's storage.
  int64_t planned_updates = 0, planned_overwrites = 0;
  int64_t replays = 0, total_ns = 0, kernel_ns = 0, in_place_updates = 0, overwrites = 0;
};

// Reads an encoded program (src/backend/torch/replay/program.ts `encode`), checking every slot;
// `uploads` are the typed arrays of its constants.
std::unique_ptr<Program> decode(napi_env env, const int32_t* code, size_t n, const double* floats, size_t n_floats, napi_value uploads);

// Runs the program on the handles of its declared inputs and state (in that order) and its step
// scalars; writes the packed result into out and returns whether its guarded values are finite
// (true without a readback). A program's outputs come back as output records (emit_record).
bool replay(Program& P, const int32_t* handles, size_t n_handles, const double* scalars, size_t n_scalars, uint32_t seed, float* out,
            size_t out_len);

// programProfile: when on, the time inside each kernel's ATen calls is summed per kernel (op index → calls, ns).
extern bool profiling;
extern std::vector<std::pair<int64_t, int64_t>> profile_by_op;

// program-napi.cc: programCreate, programReplay, programFree, programStats, programCount,
// programProfile, seedStep and setCudaGraph on exports.
void define_program_functions(napi_env env, napi_value exports);

}  // namespace sdfn
