// Reads an encoded program (src/backend/torch/replay/program.ts `encode` writes it) into a Program
// (program.h), checking every slot, and decides where its kernels may write in place.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "handles.h"
#include "napi.h"
#include "program.h"

namespace sdfn {
namespace {

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
    if (n < 0) throw std::runtime_error("sdfn torch: program list of negative length");
    std::vector<int32_t> v(n);
    for (auto& s : v) s = slot(optional);
    return v;
  }
};

// A constant of the program (a tensor uploaded inside the recorded step), on the working device.
at::Tensor constant(napi_env env, napi_value values, at::ScalarType type, const std::vector<int64_t>& shape) {
  size_t length = 0;
  const void* data = typed<const void>(env, values, &length);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type));
  if (static_cast<size_t>(t.numel()) != length) throw std::runtime_error("sdfn torch: program constant has the wrong size");
  if (t.nbytes()) std::memcpy(t.data_ptr(), data, t.nbytes());
  at::Device device = working_device();
  return device.is_cuda() && !shape.empty() ? t.to(device) : t;  // rank 0 stays on the CPU, as addon.cc's Upload
}

Kernel read_kernel(Reader& r, const double* floats, size_t n_floats, size_t& f, int32_t& scalars) {
  Kernel kn;
  kn.op = r.next();
  if (kn.op < 0 || static_cast<size_t>(kn.op) >= op_table().size()) throw std::runtime_error("sdfn torch: program names an unknown kernel");
  kn.in = r.slots_of(r.next(), true);
  int32_t n_int = r.next();
  if (n_int < 0) throw std::runtime_error("sdfn torch: program list of negative length");
  for (int32_t j = 0; j < n_int; ++j) kn.ints.push_back(r.next());
  kn.ints.resize(n_int + 8, 0);  // kernels never read past what JS wrote; the padding keeps a bad program in bounds
  int32_t n_float = r.next(), n_bound = r.next();
  if (n_float < 0 || f + n_float > n_floats) throw std::runtime_error("sdfn torch: program float attributes truncated");
  kn.floats.assign(floats + f, floats + f + n_float);
  kn.floats.resize(n_float + 8, 0);
  f += n_float;
  for (int32_t j = 0; j < n_bound; ++j) {
    int32_t at = r.next(), scalar = r.next();
    if (at < 0 || at >= n_float || scalar < 0) throw std::runtime_error("sdfn torch: program step scalar out of range");
    kn.bound.emplace_back(at, scalar);
    scalars = std::max(scalars, scalar + 1);
  }
  kn.out = r.slots_of(r.next());
  kn.release = r.slots_of(r.next());
  return kn;
}

// Whether `slot` is state read by kernel k and bound back from its output `a` (an update).
bool updated_state(const Program& P, size_t k, int32_t slot, size_t a) {
  if (a >= P.code[k].out.size()) return false;
  for (const State& st : P.states)
    if (st.in == slot && st.out == P.code[k].out[a] && st.made_at == static_cast<int32_t>(k)) return true;
  return false;
}

// The in-place part of the memory plan: kernel k may write into its first n inputs (OpEntry's
// in-place list) when each dies here and is either an intermediate (made by an earlier kernel) or,
// for an update after the loss readback (a skipped update then never half-writes), state read here
// for the last time whose new value is the kernel's matching output.
void plan_overwrite(Program& P, size_t k, const std::vector<bool>& made) {
  Kernel& kn = P.code[k];
  int32_t n = op_table()[kn.op].overwrites;
  if (n == 0 || kn.in.size() < static_cast<size_t>(n)) return;
  bool state = false;
  for (int32_t a = 0; a < n; ++a) {
    int32_t x = kn.in[a];
    if (x < 0 || std::find(kn.release.begin(), kn.release.end(), x) == kn.release.end()) return;
    if (made[x]) continue;
    if (static_cast<int32_t>(k) < P.result_at || !updated_state(P, k, x, a)) return;
    state = true;
  }
  if (state && std::any_of(kn.in.begin(), kn.in.begin() + n, [&](int32_t x) { return made[x]; })) return;  // all state or none
  kn.overwrite = n;
  kn.update = state;
  kn.holders = state ? 2 : 1;  // state: the handle table holds it too
  ++(state ? P.planned_updates : P.planned_overwrites);
}

}  // namespace

std::unique_ptr<Program> decode(napi_env env, const int32_t* code, size_t n, const double* floats, size_t n_floats, napi_value uploads) {
  auto prog = std::make_unique<Program>();
  Program& P = *prog;
  Reader r{code, code + n, 0};
  P.slots = r.next();
  if (P.slots < 0) throw std::runtime_error("sdfn torch: program has a negative slot count");
  r.slots = P.slots;
  int32_t kernels = r.next(), inputs = r.next(), states = r.next(), held = r.next(), uploaded = r.next();
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
    if (rank < 0) throw std::runtime_error("sdfn torch: program constant of negative rank");
    std::vector<int64_t> shape(rank);
    for (auto& d : shape) d = r.next();
    napi_value values;
    napi_get_element(env, uploads, k, &values);
    P.constants.emplace_back(s, constant(env, values, type, shape));
  }
  size_t f = 0;
  for (int32_t k = 0; k < kernels; ++k) P.code.push_back(read_kernel(r, floats, n_floats, f, P.scalars));
  P.outputs = r.slots_of(r.next());
  if (r.p != r.end) throw std::runtime_error("sdfn torch: program has trailing data");
  if (P.result_at < 0 || static_cast<size_t>(P.result_at) > P.code.size()) throw std::runtime_error("sdfn torch: program result position out of range");
  P.slot.resize(P.slots);
  std::vector<bool> made(P.slots, false);
  for (const Kernel& kn : P.code)
    for (int32_t o : kn.out) made[o] = true;
  for (size_t k = 0; k < P.code.size(); ++k) plan_overwrite(P, k, made);
  P.bind_after.resize(P.code.size());
  for (size_t j = 0; j < P.states.size(); ++j) {
    const State& st = P.states[j];
    if (st.out >= 0 && st.made_at >= P.result_at && static_cast<size_t>(st.made_at) < P.code.size()) P.bind_after[st.made_at].push_back(static_cast<int32_t>(j));
  }
  return prog;
}

}  // namespace sdfn
