// The N-API surface of compiled programs (program.h): create, replay, free, statistics, the
// per-kernel profile, and the step generator's seed (ops/random.cc).
#include <memory>

#include "napi.h"
#include "program.h"

namespace sdfn {
namespace {

std::vector<std::unique_ptr<Program>> programs;

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

// programStats(id) → [kernels, replays, ns in replays, ns inside kernels, updates run in place, other
// kernels that wrote into a dying input, updates planned in place, other kernels planned to]:
// host overhead = ns in replays − ns inside kernels.
napi_value ProgramStats(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  Program& P = program_at(env, argv[0]);
  int64_t values[] = {static_cast<int64_t>(P.code.size()), P.replays, P.total_ns, P.kernel_ns, P.in_place_updates, P.overwrites,
                      P.planned_updates, P.planned_overwrites};
  constexpr uint32_t n = sizeof(values) / sizeof(values[0]);
  napi_value result;
  napi_create_array_with_length(env, n, &result);
  for (uint32_t k = 0; k < n; ++k) napi_set_element(env, result, k, make_number(env, static_cast<double>(values[k])));
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
