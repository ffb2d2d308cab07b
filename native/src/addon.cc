// N-API glue of the sdfn torch backend: a table of ATen tensors addressed by integer
// handles, data movement in and out of JS typed arrays, and one `run` entry point that
// calls a kernel by index. Arguments and results travel through three shared typed arrays
// (ints, floats, output records) so that a kernel call costs one N-API call with two ints.
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <node_api.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "cpu-info.h"
#include "dist.h"
#include "handles.h"
#include "memory.h"
#include "napi.h"
#include "ops.h"
#include "precision.h"
#include "program.h"

namespace sdfn {
namespace {

constexpr int kRecord = 12;  // output record: handle, dtype, rank, up to 9 dims
constexpr int kMaxRank = kRecord - 3;
constexpr size_t kPinnedMinBytes = 1 << 16;  // smaller uploads: a pageable copy costs less than pinning

std::vector<at::Tensor> tensors;  // handle -> tensor (undefined when free)
std::vector<int32_t> free_handles;
int64_t live = 0;
at::Device device(at::kCPU);
int32_t* meta = nullptr;
size_t meta_len = 0;
int32_t* ibuf = nullptr;
size_t ibuf_len = 0;
double* fbuf = nullptr;
napi_ref keep[3] = {nullptr, nullptr, nullptr};

int32_t store(at::Tensor t) {
  int32_t h;
  if (!free_handles.empty()) {
    h = free_handles.back();
    free_handles.pop_back();
    tensors[h] = std::move(t);
  } else {
    h = static_cast<int32_t>(tensors.size());
    tensors.push_back(std::move(t));
  }
  ++live;
  return h;
}

const at::Tensor& lookup(int32_t h) {
  if (h < 0 || static_cast<size_t>(h) >= tensors.size() || !tensors[h].defined())
    throw std::runtime_error("sdfn torch: invalid tensor handle " + std::to_string(h));
  return tensors[h];
}

// Narrows 64-bit results to tfjs dtypes and writes the output record for slot k.
int32_t emit(at::Tensor t, size_t k) {
  t = tfjs_dtype(std::move(t));
  if (t.dim() > kMaxRank) throw std::runtime_error("sdfn torch: results of rank > 9 are not supported");
  if ((k + 1) * kRecord > meta_len) throw std::runtime_error("sdfn torch: too many outputs for the record buffer");
  int32_t* r = meta + k * kRecord;
  r[1] = dtype_code(t.scalar_type());
  r[2] = static_cast<int32_t>(t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) r[3 + d] = static_cast<int32_t>(t.size(d));
  r[0] = store(std::move(t));
  return r[0];
}

// CUDA device count across libtorch versions (CUDAHooks renamed getNumGPUs to deviceCount).
template <typename H>
auto gpu_count(const H& h, int) -> decltype(static_cast<int64_t>(h.deviceCount())) {
  return h.deviceCount();
}
template <typename H>
int64_t gpu_count(const H& h, long) {
  return h.getNumGPUs();
}

const char* layout_of(const char* kernel) {
  for (const auto& l : kernel_layouts)
    if (std::strcmp(l.kernel, kernel) == 0) return l.layout;
  return "";
}

napi_value make_int(napi_env env, int64_t x) { return make_number(env, static_cast<double>(x)); }

// A typed array's data and size in bytes.
void* typed_data(napi_env env, napi_value v, size_t* bytes, napi_value* buffer = nullptr) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = typed_array(env, v, &length, &type, buffer);
  size_t elem = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
  }
  *bytes = length * elem;
  return data;
}

// init(meta: Int32Array, ints: Int32Array, floats: Float64Array, device: "cpu" | "cuda" | "cuda:N")
napi_value Init(napi_env env, napi_callback_info info) {
  SDFN_ARGS(4);
  SDFN_TRY
  napi_value bufs[3] = {argv[0], argv[1], argv[2]};
  size_t bytes;
  meta = static_cast<int32_t*>(typed_data(env, argv[0], &bytes));
  meta_len = bytes / 4;
  ibuf = static_cast<int32_t*>(typed_data(env, argv[1], &bytes));
  ibuf_len = bytes / 4;
  fbuf = static_cast<double*>(typed_data(env, argv[2], &bytes));
  for (int k = 0; k < 3; ++k) {
    if (keep[k]) napi_delete_reference(env, keep[k]);
    napi_create_reference(env, bufs[k], 1, &keep[k]);
  }
  char name[64] = {0};
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[3], name, sizeof(name), &len);
  device = at::Device(std::string(name));
  // Denormal floats (e.g. vanishing LSTM gradients) make x86 arithmetic ~100× slower; flush
  // them to zero as GPUs do. SDFN_TORCH_KEEP_DENORMALS=1 keeps IEEE behaviour.
  const char* keep_denormals = std::getenv("SDFN_TORCH_KEEP_DENORMALS");
  at::globalContext().setFlushDenormal(!(keep_denormals && std::string(keep_denormals) == "1"));
  if (device.is_cuda() && !at::hasCUDA())
    throw std::runtime_error("sdfn torch: CUDA requested but this libtorch has no CUDA device available");
  napi_value result, ops, layouts;
  napi_create_object(env, &result);
  const auto& table = op_table();
  napi_create_array_with_length(env, table.size(), &ops);
  napi_create_array_with_length(env, table.size(), &layouts);
  for (size_t k = 0; k < table.size(); ++k) {
    napi_value s, l;
    napi_create_string_utf8(env, table[k].name, NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, ops, k, s);
    // The layout this build's kernels were compiled against ("" when layouts.json lacks the kernel).
    napi_create_string_utf8(env, layout_of(table[k].name), NAPI_AUTO_LENGTH, &l);
    napi_set_element(env, layouts, k, l);
  }
  napi_set_named_property(env, result, "ops", ops);
  napi_set_named_property(env, result, "layouts", layouts);
  return result;
  SDFN_CATCH
}

// info() → { version, cuda, cudaDevices, threads, onednnVersion, onednnIsa, atenCapability,
// convFormat }: what this libtorch offers and how its CPU kernels run here, without choosing.
napi_value Info(napi_env env, napi_callback_info info) {
  SDFN_TRY
  napi_value result, v;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, SDFN_TORCH_VERSION, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, result, "version", v);
  napi_get_boolean(env, at::hasCUDA(), &v);
  napi_set_named_property(env, result, "cuda", v);
  napi_set_named_property(env, result, "cudaDevices", make_int(env, at::hasCUDA() ? gpu_count(at::detail::getCUDAHooks(), 0) : 0));
  napi_set_named_property(env, result, "threads", make_int(env, at::get_num_threads()));
  CpuInfo cpu = cpu_info();
  auto set_string = [&](const char* key, const std::string& value) {
    napi_create_string_utf8(env, value.c_str(), value.size(), &v);
    napi_set_named_property(env, result, key, v);
  };
  set_string("onednnVersion", cpu.onednn_version);
  set_string("onednnIsa", cpu.onednn_isa);
  set_string("atenCapability", cpu.aten_capability);
  static const char* formats[] = {"auto", "nchw", "channels_last"};
  set_string("convFormat", formats[static_cast<int>(conv_format_setting())]);
  return result;
  SDFN_CATCH
}

// upload(values: TypedArray, dtype, rank) → handle; the shape is in ints[0..rank).
napi_value Upload(napi_env env, napi_callback_info info) {
  SDFN_ARGS(3);
  SDFN_TRY
  size_t bytes;
  void* data = typed_data(env, argv[0], &bytes);
  at::ScalarType type = scalar_type(int_arg(env, argv[1]));
  int32_t rank = int_arg(env, argv[2]);
  std::vector<int64_t> shape(ibuf, ibuf + rank);
  // On CUDA, large uploads (image batches) are staged in page-locked memory from ATen's caching
  // host allocator: the copy to the device is then an asynchronous DMA, and the block is reused
  // only after that copy has finished (the allocator records an event). SDFN_TORCH_PINNED=0: off.
  static const bool pinning = !(std::getenv("SDFN_TORCH_PINNED") && std::string(std::getenv("SDFN_TORCH_PINNED")) == "0");
  const bool pinned = pinning && device.is_cuda() && rank > 0 && bytes >= kPinnedMinBytes;
  at::Tensor cpu = at::empty(shape, at::TensorOptions().dtype(type).pinned_memory(pinned));
  if (static_cast<size_t>(cpu.nbytes()) != bytes)
    throw std::runtime_error("sdfn torch: upload size mismatch (" + std::to_string(bytes) + " bytes for shape of " +
                             std::to_string(cpu.nbytes()) + ")");
  if (bytes) std::memcpy(cpu.data_ptr(), data, bytes);
  // Rank-0 values stay on the CPU: ATen accepts them as scalars in CUDA elementwise ops,
  // so constants like `tf.sub(1, m)` cost no host-to-device copy.
  if (device.is_cuda() && rank > 0) cpu = cpu.to(at::TensorOptions().device(device), /*non_blocking=*/pinned);
  return make_int(env, store(std::move(cpu)));
  SDFN_CATCH
}

// download(handle, out: TypedArray): copies the tensor (row-major) into out.
napi_value Download(napi_env env, napi_callback_info info) {
  SDFN_ARGS(2);
  SDFN_TRY
  size_t bytes;
  void* data = typed_data(env, argv[1], &bytes);
  at::Tensor t = lookup(int_arg(env, argv[0]));
  if (!t.device().is_cpu()) t = t.to(at::kCPU);
  t = t.contiguous();
  if (static_cast<size_t>(t.nbytes()) != bytes)
    throw std::runtime_error("sdfn torch: download size mismatch");
  if (bytes) std::memcpy(data, t.data_ptr(), bytes);
  return nullptr;
  SDFN_CATCH
}

napi_value Free(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  int32_t h = int_arg(env, argv[0]);
  if (h >= 0 && static_cast<size_t>(h) < tensors.size() && tensors[h].defined()) {
    tensors[h] = at::Tensor();
    free_handles.push_back(h);
    --live;
  }
  return nullptr;
}

// run(op, nIn) → number of outputs; input handles in ints[0..nIn), attributes after them.
napi_value Run(napi_env env, napi_callback_info info) {
  SDFN_ARGS(2);
  SDFN_TRY
  const auto& table = op_table();
  int32_t op = int_arg(env, argv[0]);
  int32_t n_in = int_arg(env, argv[1]);
  if (op < 0 || static_cast<size_t>(op) >= table.size()) throw std::runtime_error("sdfn torch: unknown kernel index");
  Call call{{}, ibuf + n_in, fbuf, device, {}};
  call.in.reserve(n_in);
  for (int32_t k = 0; k < n_in; ++k) call.in.push_back(ibuf[k] < 0 ? at::Tensor() : lookup(ibuf[k]));
  // On CUDA only 0-dim tensors may sit on the CPU (uploaded scalars), and only elementwise
  // kernels may see them there.
  bool cuda = device.is_cuda();
  if (cuda && !table[op].elementwise)
    for (auto& t : call.in)
      if (t.defined() && t.device() != device) t = t.to(device);
  table[op].fn(call);
  for (size_t k = 0; k < call.out.size(); ++k) {
    at::Tensor& t = call.out[k];
    if (cuda && t.dim() > 0 && t.device() != device) t = t.to(device);
    emit(std::move(t), k);
  }
  napi_value v;
  napi_create_int32(env, static_cast<int32_t>(call.out.size()), &v);
  return v;
  SDFN_CATCH
}

// stats() → [live handles, bytes held by them (views counted at their own size)]
napi_value Stats(napi_env env, napi_callback_info info) {
  int64_t bytes = 0;
  for (const auto& t : tensors)
    if (t.defined()) bytes += t.numel() * static_cast<int64_t>(t.element_size());
  napi_value result;
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, make_int(env, live));
  napi_set_element(env, result, 1, make_int(env, bytes));
  return result;
}

// sync(): waits for queued device work (a one-element read forces the stream to drain).
napi_value Sync(napi_env env, napi_callback_info info) {
  SDFN_TRY
  if (device.is_cuda()) at::zeros({1}, at::TensorOptions().device(device)).to(at::kCPU);
  return nullptr;
  SDFN_CATCH
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  int32_t n = int_arg(env, argv[0]);
  if (n > 0) at::set_num_threads(n);
  return nullptr;
  SDFN_CATCH
}

napi_value Module(napi_env env, napi_value exports) {
  count_cpu_tensor_bytes();  // before the first tensor: memoryStats counts every one
  define_methods(env, exports, {
      method("init", Init),
      method("info", Info),
      method("upload", Upload),
      method("download", Download),
      method("free", Free),
      method("run", Run),
      method("stats", Stats),
      method("sync", Sync),
      method("setThreads", SetThreads),
      method("setPrecision", SetPrecision),
  });
  register_dist(env, exports);  // distInfo, distInit, ... (dist.cc)
  define_program_functions(env, exports);  // programCreate, programReplay, ... (program-napi.cc)
  define_memory_functions(env, exports);   // memoryStats, resetMemoryPeak (memory.cc)
  return exports;
}

}  // namespace

// Shared through handles.h.
at::Tensor& table_at(int32_t h) { return const_cast<at::Tensor&>(lookup(h)); }
at::Device working_device() { return device; }
int32_t emit_record(at::Tensor t, size_t k) { return emit(std::move(t), k); }
at::Tensor tfjs_dtype(at::Tensor t) {
  switch (t.scalar_type()) {
    case at::kFloat: case at::kInt: case at::kBool: return t;
    case at::kLong: case at::kShort: case at::kChar: case at::kByte: return t.to(at::kInt);
    case at::kDouble: case at::kHalf: case at::kBFloat16: return t.to(at::kFloat);
    default: throw std::runtime_error(std::string("sdfn torch: unsupported result dtype ") + at::toString(t.scalar_type()));
  }
}

}  // namespace sdfn

NAPI_MODULE(NODE_GYP_MODULE_NAME, sdfn::Module)
