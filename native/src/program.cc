// Replay of a compiled training step. A program is the kernel sequence of one recorded eager
// step over numbered slots: declared inputs (the batch, given as handles per replay), state
// (parameters and optimizer moments: read from their handles, results bound back to them),
// constants (uploads made inside the step, tensors that outlive it) and intermediates. The
// replay runs every kernel as addon.cc's Run would, reads the packed losses back after the
// backward pass, and skips the update when any of them is not finite. An inference forward has no
// readback: its outputs (declared slots) leave the replay as new handles instead. Dropout masks come from
// one generator that every step reseeds, so eager steps and replays draw the same masks.
#include "program.h"

#include "cuda-graph.h"
#include "napi.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

namespace sdfn {
bool update_in_place = false;
namespace {

struct Kernel {
  int32_t op = 0;
  std::vector<int32_t> in, ints, out, drop;  // slots (-1: absent input), attributes, outputs, slots freed after it
  std::vector<double> floats;
  std::vector<std::pair<int32_t, int32_t>> bound;  // float attribute index ← step scalar index
  int32_t in_place = 0;  // an update of its first in_place inputs, state only it reads from here on (update_in_place)
};

struct State {
  int32_t in, out, made_at;  // slot read at the start (-1: none), slot bound back (-1: none), kernel making `out`
};

struct Program {
  int32_t slots = 0, result = -1, result_at = 0, guard = 0, scalars = 0;  // result -1: no readback, no finite check
  std::vector<int32_t> inputs, prelude;
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
  // For the bench: replays, and nanoseconds spent in all of them and inside the kernels' ATen calls.
  int64_t replays = 0, total_ns = 0, kernel_ns = 0, in_place = 0;  // (+ updates run in place)
};

using Clock = std::chrono::steady_clock;
int64_t ns_since(Clock::time_point t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count(); }

// programProfile: time inside each kernel's ATen calls summed per kernel name over replays (for
// comparing a replay with torch.profiler's table); off by default, when off a replay pays one branch.
bool profiling = false;
std::vector<std::pair<int64_t, int64_t>> profile_by_op;  // op index → (calls, ns)

std::vector<std::unique_ptr<Program>> programs;

// Update kernels that may write into their first n inputs: Adam (variable, m, v) and a table's
// rows (the distillation cache).
int32_t updated_inputs(const char* name) {
  if (std::strcmp(name, "SdfnAdamStep") == 0) return 3;
  if (std::strcmp(name, "SdfnRowsUpdate") == 0) return 1;
  return 0;
}

// An update kernel after the loss readback whose first n inputs are state read here and never
// again, and whose first n outputs are those states' new values: it may update them in place (n, or 0).
int32_t updates_in_place(const Program& P, size_t k) {
  const Kernel& kn = P.code[k];
  int32_t n = updated_inputs(op_table()[kn.op].name);
  if (n == 0 || static_cast<int32_t>(k) < P.result_at) return 0;
  if (kn.in.size() < static_cast<size_t>(n) || kn.out.size() != static_cast<size_t>(n)) return 0;
  for (int32_t a = 0; a < n; ++a) {
    bool state = false;
    for (const State& st : P.states) state = state || (st.in == kn.in[a] && st.out == kn.out[a] && st.made_at == static_cast<int32_t>(k));
    if (!state) return 0;
    for (size_t j = k + 1; j < P.code.size(); ++j)
      for (int32_t x : P.code[j].in)
        if (x == kn.in[a]) return 0;
  }
  return n;
}

// At run time: no other tensor views the storage and nothing but the handle table, the slot and
// the call holds the tensor (a kernel that returned its input, say, would make a fourth holder).
bool owned(const at::Tensor& t) { return t.defined() && t.storage().use_count() == 1 && t.use_count() <= 3; }

struct InPlace {
  explicit InPlace(bool on) { update_in_place = on; }
  ~InPlace() { update_in_place = false; }
};
at::Generator step_generator;
// The step's seed and how many masks it has drawn: each mask is drawn from its own seed, so its
// values never depend on the sizes of earlier masks (a text-length bucket pads some of them).
uint64_t step_seed = 0, step_masks = 0;

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

// splitmix64: the seed of the step's k-th mask.
uint64_t mask_seed(uint64_t seed, uint64_t k) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (k + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// SdfnDropoutMask: ints rank, shape; f: rate. 1/(1 − rate) where kept, 0 where dropped (as tf.dropout).
void dropout_mask(Call& c) {
  if (!step_generator.defined()) seed_step(0);
  double keep = 1 - c.f[0];
  at::Tensor mask = at::empty(ivec(c.i + 1, c.i[0]), c.opts(at::kFloat));
  if (!cuda_graph_capturing()) {  // a graph's masks follow the step seed (seed_step); reseeding inside a capture is refused
    std::lock_guard<std::mutex> lock(step_generator.mutex());
    step_generator.set_current_seed(mask_seed(step_seed, step_masks++));
  }
  mask.bernoulli_(keep, step_generator);
  c.out.push_back(mask.div_(keep));
}

// Reads the encoded program (src/backend/torch/program.ts `encode` writes it), checking every slot.
struct Reader {
  const int32_t* p;
  const int32_t* end;
  int32_t slots;
  int32_t next() {
    if (p >= end) throw std::runtime_error("sdfn torch: truncated program");
    return *p++;
  }
  int32_t slot(bool optional = false) {
    int32_t s = next();
    if ((s < 0 && !(optional && s == -1)) || s >= slots) throw std::runtime_error("sdfn torch: program slot out of range");
    return s;
  }
  std::vector<int32_t> slots_of(int32_t n, bool optional = false) {
    std::vector<int32_t> v(n);
    for (auto& s : v) s = slot(optional);
    return v;
  }
};

at::Tensor upload(napi_env env, napi_value values, at::ScalarType type, std::vector<int64_t> shape);

std::unique_ptr<Program> decode(napi_env env, const int32_t* code, size_t n, const double* floats, size_t n_floats, napi_value uploads) {
  auto prog = std::make_unique<Program>();
  Program& P = *prog;
  Reader r{code, code + n, 0};
  P.slots = r.next();
  r.slots = P.slots;
  int32_t kernels = r.next(), inputs = r.next(), states = r.next(), held = r.next(), uploaded = r.next(), prelude = r.next();
  P.result = r.slot(true);
  P.result_at = r.next();
  P.guard = r.next();
  P.inputs = r.slots_of(inputs);
  for (int32_t k = 0; k < states; ++k) {
    int32_t in = r.slot(true), out = r.slot(true);
    P.states.push_back({in, out, r.next()});
  }
  for (int32_t k = 0; k < held; ++k) {
    int32_t s = r.slot();
    P.constants.emplace_back(s, table_at(r.next()));
  }
  for (int32_t k = 0; k < uploaded; ++k) {
    int32_t s = r.slot();
    at::ScalarType type = scalar_type(r.next());
    int32_t rank = r.next();
    std::vector<int64_t> shape(rank);
    for (auto& d : shape) d = r.next();
    napi_value values;
    napi_get_element(env, uploads, k, &values);
    P.constants.emplace_back(s, upload(env, values, type, shape));
  }
  P.prelude = r.slots_of(prelude);
  size_t f = 0;
  for (int32_t k = 0; k < kernels; ++k) {
    Kernel kn;
    kn.op = r.next();
    if (kn.op < 0 || static_cast<size_t>(kn.op) >= op_table().size()) throw std::runtime_error("sdfn torch: program names an unknown kernel");
    kn.in = r.slots_of(r.next(), true);
    int32_t n_int = r.next();
    for (int32_t j = 0; j < n_int; ++j) kn.ints.push_back(r.next());
    kn.ints.resize(n_int + 8, 0);  // kernels never read past what JS wrote; the padding keeps a bad program in bounds
    int32_t n_float = r.next(), n_bound = r.next();
    if (f + n_float > n_floats) throw std::runtime_error("sdfn torch: program float attributes truncated");
    kn.floats.assign(floats + f, floats + f + n_float);
    kn.floats.resize(n_float + 8, 0);
    f += n_float;
    for (int32_t j = 0; j < n_bound; ++j) {
      int32_t at = r.next(), scalar = r.next();
      if (at < 0 || at >= n_float || scalar < 0) throw std::runtime_error("sdfn torch: program step scalar out of range");
      kn.bound.emplace_back(at, scalar);
      P.scalars = std::max(P.scalars, scalar + 1);
    }
    kn.out = r.slots_of(r.next());
    kn.drop = r.slots_of(r.next());
    P.code.push_back(std::move(kn));
  }
  P.outputs = r.slots_of(r.next());
  if (r.p != r.end) throw std::runtime_error("sdfn torch: program has trailing data");
  if (P.result_at < 0 || static_cast<size_t>(P.result_at) > P.code.size()) throw std::runtime_error("sdfn torch: program result position out of range");
  P.slot.resize(P.slots);
  for (size_t k = 0; k < P.code.size(); ++k) P.code[k].in_place = updates_in_place(P, k);
  P.bind_after.resize(P.code.size());
  for (size_t j = 0; j < P.states.size(); ++j) {
    const State& st = P.states[j];
    if (st.out >= 0 && st.made_at >= P.result_at && static_cast<size_t>(st.made_at) < P.code.size()) P.bind_after[st.made_at].push_back(static_cast<int32_t>(j));
  }
  return prog;
}

// One kernel as addon.cc's Run: CPU scalars moved for non-elementwise kernels on CUDA, results
// narrowed to tfjs dtypes and on the device.
void run_kernel(const Kernel& kn, std::vector<at::Tensor>& s, Call& call, bool cuda, int64_t& kernel_ns, int64_t& in_place_runs) {
  const OpEntry& entry = op_table()[kn.op];
  call.in.clear();
  for (int32_t x : kn.in) {
    if (x >= 0 && !s[x].defined()) throw std::runtime_error(std::string("sdfn torch: program reads a freed slot in ") + entry.name);
    call.in.push_back(x < 0 ? at::Tensor() : s[x]);
  }
  if (cuda && !entry.elementwise)
    for (auto& t : call.in)
      if (t.defined() && t.device() != call.device) t = t.to(call.device);
  call.i = kn.ints.data();
  call.f = kn.floats.data();
  call.out.clear();
  Clock::time_point started = Clock::now();
  bool may = kn.in_place > 0;
  for (int32_t a = 0; a < kn.in_place; ++a) may = may && owned(call.in[a]);
  in_place_runs += may;
  InPlace in_place(may);
  entry.fn(call);
  int64_t ns = ns_since(started);
  kernel_ns += ns;
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
  for (int32_t d : kn.drop) s[d].reset();
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

bool replay(Program& P, const int32_t* handles, size_t n_handles, const double* scalars, size_t n_scalars, uint32_t seed,
            float* out, size_t out_len) {
  if (n_handles != P.inputs.size() + P.states.size()) throw std::runtime_error("sdfn torch: replay given the wrong number of handles");
  if (n_scalars < static_cast<size_t>(P.scalars)) throw std::runtime_error("sdfn torch: replay given too few step scalars");
  Clock::time_point started = Clock::now();
  auto& s = P.slot;
  const int32_t* state_handles = handles + P.inputs.size();
  auto bind = [&] {
    for (auto& c : P.constants) s[c.first] = c.second;
    for (size_t k = 0; k < P.inputs.size(); ++k) s[P.inputs[k]] = table_at(handles[k]);
    for (size_t k = 0; k < P.states.size(); ++k)
      if (P.states[k].in >= 0) s[P.states[k].in] = table_at(state_handles[k]);
    for (int32_t d : P.prelude) s[d].reset();
  };
  bind();
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
        for (int32_t j = 0; j < P.result_at; ++j) run_kernel(P.code[j], s, call, cuda, P.kernel_ns, P.in_place);
      });
      if (ran == StepGraph::Ran::NotRun) bind();  // a failed capture: this step runs plainly from the start
      else k = P.result_at;
      graphed = ran == StepGraph::Ran::Graphed;
    }
    for (; k < P.code.size(); ++k) {
      if (k == static_cast<size_t>(P.result_at) && P.result >= 0 && !(ok = read_result(P, out, out_len))) break;
      run_kernel(P.code[k], s, call, cuda, P.kernel_ns, P.in_place);
      for (int32_t j : P.bind_after[k]) table_at(state_handles[j]) = s[P.states[j].out];
    }
    if (k == P.code.size() && P.result >= 0 && P.result_at == static_cast<int32_t>(k)) ok = read_result(P, out, out_len);
    // A skipped update still keeps what the forward pass stored (batch-norm running statistics), as an eager step does.
    for (size_t j = 0; j < P.states.size(); ++j) {
      const State& st = P.states[j];
      // (state made inside a graph lives in its memory, which the next replay overwrites: a copy is bound)
      if (st.out >= 0 && st.made_at < P.result_at) table_at(state_handles[j]) = graphed && st.made_at < P.result_at ? s[st.out].clone() : s[st.out];
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

// ---- N-API

at::Tensor upload(napi_env env, napi_value values, at::ScalarType type, std::vector<int64_t> shape) {
  size_t length = 0;
  const void* data = typed<const void>(env, values, &length);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  if (static_cast<size_t>(t.numel()) != length) throw std::runtime_error("sdfn torch: program constant has the wrong size");
  if (t.nbytes()) std::memcpy(t.data_ptr(), data, t.nbytes());
  at::Device device = working_device();
  return device.is_cuda() && !shape.empty() ? t.to(device) : t;  // rank 0 stays on the CPU, as addon.cc's Upload
}

Program& program_at(napi_env env, napi_value v) {
  int32_t id = int_arg(env, v);
  if (id < 0 || static_cast<size_t>(id) >= programs.size() || !programs[id]) throw std::runtime_error("sdfn torch: no such program");
  return *programs[id];
}

// programCreate(code: Int32Array, floats: Float64Array, uploads: TypedArray[]) → id
napi_value ProgramCreate(napi_env env, napi_callback_info info) {
  SDFN_ARGS(3);
  SDFN_TRY
  size_t n = 0, n_floats = 0;
  const int32_t* code = typed<int32_t>(env, argv[0], &n);
  const double* floats = typed<double>(env, argv[1], &n_floats);
  programs.push_back(decode(env, code, n, floats, n_floats, argv[2]));
  napi_value v;
  napi_create_int32(env, static_cast<int32_t>(programs.size() - 1), &v);
  return v;
  SDFN_CATCH
}

// programReplay(id, handles: Int32Array (inputs, then state), scalars: Float64Array, seed, out: Float32Array) → finite
// (true for a program without a readback); a program's outputs come back in the output records (TorchNative.output).
napi_value ProgramReplay(napi_env env, napi_callback_info info) {
  SDFN_ARGS(5);
  SDFN_TRY
  Program& P = program_at(env, argv[0]);
  size_t n_handles = 0, n_scalars = 0, out_len = 0;
  const int32_t* handles = typed<int32_t>(env, argv[1], &n_handles);
  const double* scalars = typed<double>(env, argv[2], &n_scalars);
  uint32_t seed = uint_arg(env, argv[3]);
  float* out = typed<float>(env, argv[4], &out_len);
  napi_value v;
  napi_get_boolean(env, replay(P, handles, n_handles, scalars, n_scalars, seed, out, out_len), &v);
  return v;
  SDFN_CATCH
}

napi_value ProgramFree(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  program_at(env, argv[0]);
  programs[int_arg(env, argv[0])].reset();
  return nullptr;
  SDFN_CATCH
}

// programStats(id) → [kernels, replays, ns in replays, ns inside kernels, updates run in place]: host overhead = ns in replays − ns inside kernels
napi_value ProgramStats(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  Program& P = program_at(env, argv[0]);
  double values[5] = {static_cast<double>(P.code.size()), static_cast<double>(P.replays), static_cast<double>(P.total_ns),
                      static_cast<double>(P.kernel_ns), static_cast<double>(P.in_place)};
  napi_value result, v;
  napi_create_array_with_length(env, 5, &result);
  for (uint32_t k = 0; k < 5; ++k) {
    napi_create_double(env, values[k], &v);
    napi_set_element(env, result, k, v);
  }
  return result;
  SDFN_CATCH
}

// programCount() → programs alive (a test checks that runs free theirs)
napi_value ProgramCount(napi_env env, napi_callback_info info) {
  int32_t live = 0;
  for (const auto& p : programs) live += p ? 1 : 0;
  napi_value v;
  napi_create_int32(env, live, &v);
  return v;
}

// programProfile(on) → [[kernel name, calls, ns], …] summed since the last call (kernels that ran);
// starts (on) or stops (off) the per-kernel timing of replays.
napi_value ProgramProfile(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  bool on = false;
  napi_get_value_bool(env, argv[0], &on);
  napi_value result;
  napi_create_array(env, &result);
  uint32_t n = 0;
  for (size_t op = 0; op < profile_by_op.size(); ++op) {
    if (!profile_by_op[op].first) continue;
    napi_value row, name;
    napi_create_array_with_length(env, 3, &row);
    napi_create_string_utf8(env, op_table()[op].name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, row, 0, name);
    napi_set_element(env, row, 1, make_number(env, static_cast<double>(profile_by_op[op].first)));
    napi_set_element(env, row, 2, make_number(env, static_cast<double>(profile_by_op[op].second)));
    napi_set_element(env, result, n++, row);
  }
  profile_by_op.assign(op_table().size(), {0, 0});
  profiling = on;
  return result;
  SDFN_CATCH
}

// seedStep(seed): reseeds the step generator (an eager step does this before its forward pass).
napi_value SeedStep(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  seed_step(uint_arg(env, argv[0]));
  return nullptr;
  SDFN_CATCH
}

}  // namespace

std::vector<OpEntry> program_ops() { return {OP("SdfnDropoutMask", dropout_mask)}; }

void define_program_functions(napi_env env, napi_value exports) {
  define_methods(env, exports, {
      method("programCreate", ProgramCreate),
      method("programReplay", ProgramReplay),
      method("programFree", ProgramFree),
      method("programStats", ProgramStats),
      method("programCount", ProgramCount),
      method("programProfile", ProgramProfile),
      method("seedStep", SeedStep),
      method("setCudaGraph", SetCudaGraph),
  });
}

}  // namespace sdfn
