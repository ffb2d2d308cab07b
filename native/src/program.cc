// Replay of a compiled program (program.h). A program is the kernel sequence of one recorded eager
// run over numbered slots: declared inputs (the batch, given as handles per replay), state
// (parameters and optimizer moments: read from their handles, results bound back to them),
// constants (uploads made inside the run, tensors that outlive it) and intermediates. The replay
// runs every kernel as addon.cc's Run would, releasing each slot at its last use (the memory plan:
// an activation lives only until the backward's last read of it) and letting a kernel on the
// in-place list write into inputs that die with it; it reads the packed losses back after the
// backward pass and skips the update when one of them is not finite. An inference forward has no
// readback: its outputs (declared slots) leave the replay as new handles instead.
#include "program.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "handles.h"

namespace sdfn {

bool profiling = false;
std::vector<std::pair<int64_t, int64_t>> profile_by_op;

namespace {

using Clock = std::chrono::steady_clock;
int64_t ns_since(Clock::time_point t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count(); }

// At run time: nothing but the call and `holders` − 1 known owners holds the tensor, and no other
// tensor views its storage (a kernel that returned its input, say, would make one more holder).
bool exclusive(const at::Tensor& t, int32_t holders) {
  return t.defined() && t.storage().use_count() == 1 && t.use_count() <= static_cast<size_t>(holders);
}

// One kernel as addon.cc's Run: CPU scalars moved for non-elementwise kernels on CUDA, results
// narrowed to tfjs dtypes and on the device; the slots dying here released as it starts.
void run_kernel(const Kernel& kn, std::vector<at::Tensor>& s, Call& call, bool cuda, Program& P) {
  const OpEntry& entry = op_table()[kn.op];
  call.in.clear();
  for (int32_t x : kn.in) {
    if (x >= 0 && !s[x].defined()) throw std::runtime_error(std::string("sdfn torch: program reads a freed slot in ") + entry.name);
    call.in.push_back(x < 0 ? at::Tensor() : s[x]);
  }
  for (int32_t d : kn.release) s[d].reset();  // the call now holds what dies here alone
  if (cuda && !entry.elementwise)
    for (auto& t : call.in)
      if (t.defined() && t.device() != call.device) t = t.to(call.device);
  call.i = kn.ints.data();
  call.f = kn.floats.data();
  call.out.clear();
  call.overwrite = kn.overwrite > 0;
  for (int32_t a = 0; a < kn.overwrite; ++a) call.overwrite = call.overwrite && exclusive(call.in[a], kn.holders);
  if (call.overwrite) ++(kn.update ? P.in_place_updates : P.overwrites);
  Clock::time_point started = Clock::now();
  entry.fn(call);
  int64_t ns = ns_since(started);
  P.kernel_ns += ns;
  if (profiling) {
    auto& p = profile_by_op[kn.op];
    p.first++;
    p.second += ns;
  }
  if (call.out.size() != kn.out.size())
    throw std::runtime_error(std::string("sdfn torch: ") + entry.name + " gave another number of outputs than when it was recorded");
  for (size_t k = 0; k < kn.out.size(); ++k) {
    at::Tensor t = tfjs_dtype(std::move(call.out[k]));
    if (cuda && t.dim() > 0 && t.device() != call.device) t = t.to(call.device);
    s[kn.out[k]] = std::move(t);
  }
  for (int32_t d : kn.release) s[d].reset();  // outputs no kernel reads
  call.in.clear();
  call.out.clear();
}

// Copies the packed result into out; true when its first `guard` values are finite.
bool read_result(const Program& P, float* out, size_t out_len) {
  at::Tensor r = P.slot[P.result].to(at::kCPU).to(at::kFloat).contiguous();
  if (static_cast<size_t>(r.numel()) != out_len) throw std::runtime_error("sdfn torch: replay result buffer has the wrong length");
  std::memcpy(out, r.data_ptr<float>(), out_len * sizeof(float));
  for (int32_t k = 0; k < P.guard && static_cast<size_t>(k) < out_len; ++k)
    if (!std::isfinite(out[k])) return false;
  return true;
}

// Whether the kernels before the loss readback may be one CUDA graph: none takes a step scalar
// (lr, bias corrections are host floats a graph would freeze). Fills P.external once.
bool graphable(Program& P) {
  // (outputs would live in the graph's memory, which the next replay overwrites: such programs run plainly)
  if (P.result_at <= 0 || !P.outputs.empty()) return false;
  for (int32_t k = 0; k < P.result_at; ++k)
    if (!P.code[k].bound.empty()) return false;
  if (P.external.empty()) {
    P.external = P.inputs;
    for (const State& st : P.states)
      if (st.in >= 0) P.external.push_back(st.in);
  }
  return true;
}

// The program's outputs as new handles, in output records 0, 1, ... (addon.cc emit_record); all or none.
void emit_outputs(const Program& P) {
  for (int32_t o : P.outputs)
    if (!P.slot[o].defined()) throw std::runtime_error("sdfn torch: a program output was freed before the end of the replay");
  for (size_t j = 0; j < P.outputs.size(); ++j) emit_record(P.slot[P.outputs[j]], j);
}

// Binds constants, inputs and state into the slots.
void bind(Program& P, const int32_t* handles) {
  auto& s = P.slot;
  const int32_t* state_handles = handles + P.inputs.size();
  for (auto& c : P.constants) s[c.first] = c.second;
  for (size_t k = 0; k < P.inputs.size(); ++k) s[P.inputs[k]] = table_at(handles[k]);
  for (size_t k = 0; k < P.states.size(); ++k)
    if (P.states[k].in >= 0) s[P.states[k].in] = table_at(state_handles[k]);
}

// The kernels from `k` on; false when the readback found a loss that is not finite (the rest skipped).
bool run_from(Program& P, size_t k, const int32_t* state_handles, Call& call, bool cuda, float* out, size_t out_len) {
  auto& s = P.slot;
  for (; k < P.code.size(); ++k) {
    if (k == static_cast<size_t>(P.result_at) && P.result >= 0 && !read_result(P, out, out_len)) return false;
    run_kernel(P.code[k], s, call, cuda, P);
    for (int32_t j : P.bind_after[k]) table_at(state_handles[j]) = s[P.states[j].out];
  }
  if (P.result >= 0 && P.result_at == static_cast<int32_t>(P.code.size())) return read_result(P, out, out_len);
  return true;
}

}  // namespace

bool replay(Program& P, const int32_t* handles, size_t n_handles, const double* scalars, size_t n_scalars, uint32_t seed, float* out,
            size_t out_len) {
  if (n_handles != P.inputs.size() + P.states.size()) throw std::runtime_error("sdfn torch: replay given the wrong number of handles");
  if (n_scalars < static_cast<size_t>(P.scalars)) throw std::runtime_error("sdfn torch: replay given too few step scalars");
  Clock::time_point started = Clock::now();
  auto& s = P.slot;
  const int32_t* state_handles = handles + P.inputs.size();
  bind(P, handles);
  for (auto& kn : P.code)
    for (auto& b : kn.bound) kn.floats[b.first] = scalars[b.second];
  seed_step(seed);
  at::Device device = working_device();
  Call call{{}, nullptr, nullptr, device, {}};
  bool ok = true, cuda = device.is_cuda();
  try {
    size_t k = 0;
    bool graphed = false;
    if (cuda && cuda_graph_enabled() && graphable(P)) {
      if (!P.graph) P.graph = std::make_unique<StepGraph>();
      auto ran = P.graph->run(s, P.external, [&] {
        for (int32_t j = 0; j < P.result_at; ++j) run_kernel(P.code[j], s, call, cuda, P);
      });
      if (ran == StepGraph::Ran::NotRun) bind(P, handles);  // a failed capture: this step runs plainly from the start
      else k = P.result_at;
      graphed = ran == StepGraph::Ran::Graphed;
    }
    ok = run_from(P, k, state_handles, call, cuda, out, out_len);
    // A skipped update still keeps what the forward pass stored (batch-norm running statistics), as an eager step does.
    for (size_t j = 0; j < P.states.size(); ++j) {
      const State& st = P.states[j];
      // (state made inside a graph lives in its memory, which the next replay overwrites: a copy is bound)
      if (st.out >= 0 && st.made_at < P.result_at) table_at(state_handles[j]) = graphed ? s[st.out].clone() : s[st.out];
    }
    if (ok) emit_outputs(P);
  } catch (...) {
    for (auto& t : s) t.reset();
    throw;
  }
  for (auto& t : s) t.reset();
  P.replays++;
  P.total_ns += ns_since(started);
  return ok;
}

}  // namespace sdfn
