// Data-parallel training over PyTorch's c10d: a TCPStore rendezvous, a ProcessGroupGloo (or
// ProcessGroupNCCL in CUDA builds that have NCCL), bucketed gradient averaging as a kernel, and
// the host-side collectives the trainer needs outside a step (barrier, allreduce, allgather).
// Gloo is compiled in when its headers are there (Debian: libgloo-dev), NCCL when native/build.mjs
// finds a CUDA libtorch and nccl.h (SDFN_WITH_NCCL); with neither this file provides no kernels
// and a distInfo() that says why.
#include "dist.h"
#include "napi.h"

#include <chrono>
#include <cstring>
#include <string>

#if __has_include(<gloo/context.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#define SDFN_WITH_GLOO 1
#endif
#if defined(SDFN_WITH_GLOO) || defined(SDFN_WITH_NCCL)  // NCCL: set by native/build.mjs (with USE_C10D_NCCL)
#define SDFN_DIST 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#endif
#ifdef SDFN_WITH_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef SDFN_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace sdfn {
namespace {

napi_value text(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

void set(napi_env env, napi_value obj, const char* key, napi_value v) { napi_set_named_property(env, obj, key, v); }

// Which collective backends this build has ("" = none), and why not when empty.
#ifdef SDFN_DIST
#if defined(SDFN_WITH_GLOO) && defined(SDFN_WITH_NCCL)
const char* kBackends = "gloo,nccl";
#elif defined(SDFN_WITH_GLOO)
const char* kBackends = "gloo";
#else
const char* kBackends = "nccl";
#endif
const char* kAbsent = "";
#else
const char* kBackends = "";
const char* kAbsent = "the addon was built without c10d's Gloo headers (Debian: apt-get install libgloo-dev, then npm run build:native)";
#endif

// distInfo() → { backends: "gloo[,nccl]" or "", why }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_object(env, &out);
  set(env, out, "backends", text(env, kBackends));
  set(env, out, "why", text(env, kAbsent));
  return out;
}

#ifdef SDFN_DIST

// PyTorch 2 made ProcessGroupGloo/NCCL backends (c10d::Backend, which c10d::ProcessGroup wraps);
// libtorch 1.13's derive from c10d::ProcessGroup. The collectives used here are the same calls on both.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> pg;
  int rank = 0;
  int world = 1;
  std::chrono::milliseconds timeout{300000};
  at::Device device{at::kCPU};  // where collective buffers live (CUDA for NCCL)
  // Totals for bench/: collectives issued, payload bytes, seconds spent waiting for them.
  double collectives = 0, bytes = 0, seconds = 0;
};
Group group;

void need_group() {
  if (!group.pg) throw std::runtime_error("sdfn dist: no process group; call distInit first");
}

// Waits for a collective; a timeout or a lost peer becomes an error naming this rank and the call.
void finish(const c10::intrusive_ptr<c10d::Work>& work, const char* what, int64_t nbytes) {
  auto started = std::chrono::steady_clock::now();
  try {
    work->wait(group.timeout);
  } catch (const c10::Error& e) {
    throw std::runtime_error("sdfn dist: " + std::string(what) + " failed on rank " + std::to_string(group.rank) + ": " +
                             e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error("sdfn dist: " + std::string(what) + " failed on rank " + std::to_string(group.rank) + ": " + e.what());
  }
  group.collectives += 1;
  group.bytes += static_cast<double>(nbytes);
  group.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

// One contiguous float32 buffer holding every input (a copy: inputs may share storage).
at::Tensor pack(const std::vector<at::Tensor>& in, const at::Device& device) {
  std::vector<at::Tensor> flat;
  flat.reserve(in.size());
  for (const auto& t : in) {
    if (t.scalar_type() != at::kFloat) throw std::runtime_error("sdfn dist: only float32 tensors can be reduced");
    flat.push_back(t.reshape({-1}).to(device));
  }
  return at::cat(flat);
}

// Views of `buffer` with the inputs' shapes, on the inputs' device.
void unpack(const at::Tensor& buffer, const std::vector<at::Tensor>& in, std::vector<at::Tensor>& out) {
  int64_t at_ = 0;
  for (const auto& t : in) {
    out.push_back(buffer.narrow(0, at_, t.numel()).view(t.sizes()).to(t.device()));
    at_ += t.numel();
  }
}

// DistAllreduce: inputs = one bucket of gradients; mean = 1 for the mean over ranks, 0 for the sum.
// One allreduce for the whole bucket; outputs are views of the reduced buffer.
void dist_allreduce(Call& c) {
  using K = arg::DistAllreduce;
  need_group();
  at::Tensor buffer = pack(c.in, group.device);
  std::vector<at::Tensor> io{buffer};
  finish(group.pg->allreduce(io), "allreduce", buffer.nbytes());
  if (c.i[K::i_mean] == 1) buffer.div_(group.world);
  unpack(buffer, c.in, c.out);
}

// DistBroadcast: outputs = rank `root`'s values of the inputs (parameters, batch-norm statistics).
void dist_broadcast(Call& c) {
  using K = arg::DistBroadcast;
  need_group();
  at::Tensor buffer = pack(c.in, group.device);
  std::vector<at::Tensor> io{buffer};
  c10d::BroadcastOptions opts;
  opts.rootRank = c.i[K::i_root];
  finish(group.pg->broadcast(io, opts), "broadcast", buffer.nbytes());
  unpack(buffer, c.in, c.out);
}

float* float_array(napi_env env, napi_value v, size_t* length) {
  napi_typedarray_type type;
  void* data = typed_array(env, v, length, &type);
  if (type != napi_float32_array) throw std::runtime_error("sdfn dist: expected a Float32Array");
  return static_cast<float*>(data);
}

#ifdef SDFN_WITH_GLOO
bool loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1"; }

// The Gloo transport device: GLOO_SOCKET_IFNAME (as PyTorch reads it), loopback for a
// loopback master, else the address this host's name resolves to.
std::shared_ptr<gloo::transport::Device> gloo_device(const std::string& master) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME")) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (loopback(master)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

c10::intrusive_ptr<Collectives> make_group(const std::string& backend, [[maybe_unused]] const std::string& master) {
#ifdef SDFN_WITH_GLOO
  if (backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create(group.timeout);
    opts->devices.push_back(gloo_device(master));
    opts->threads = 2;
    return c10::make_intrusive<c10d::ProcessGroupGloo>(group.store, group.rank, group.world, opts);
  }
#endif
#ifdef SDFN_WITH_NCCL
  if (backend == "nccl") {
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = group.timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(group.store, group.rank, group.world, opts);
  }
#endif
  throw std::runtime_error("sdfn dist: backend \"" + backend + "\" is not in this build (it has: " + kBackends + ")");
}

// distInit(rank, world, masterAddr, masterPort, backend, timeoutMs, device): joins the group.
// Rank 0 serves the TCPStore; every rank blocks until all `world` ranks have connected.
napi_value Init(napi_env env, napi_callback_info info) {
  SDFN_ARGS(7);
  SDFN_TRY
  if (group.pg) throw std::runtime_error("sdfn dist: this process already joined a group");
  group.rank = static_cast<int>(number_arg(env, argv[0]));
  group.world = static_cast<int>(number_arg(env, argv[1]));
  std::string master = string_arg(env, argv[2]);
  auto port = static_cast<uint16_t>(number_arg(env, argv[3]));
  std::string backend = string_arg(env, argv[4]);
  group.timeout = std::chrono::milliseconds(static_cast<int64_t>(number_arg(env, argv[5])));
  group.device = at::Device(string_arg(env, argv[6]));
  if (backend == "gloo") group.device = at::Device(at::kCPU);  // Gloo stages CUDA tensors through the host itself
  c10d::TCPStoreOptions so;
  so.port = port;
  so.isServer = group.rank == 0;
  so.numWorkers = group.world;
  so.waitWorkers = true;
  so.timeout = group.timeout;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(master, so);
  group.store = c10::make_intrusive<c10d::PrefixStore>("sdfn/", tcp);
  group.pg = make_group(backend, master);
  return nullptr;
  SDFN_CATCH
}

napi_value Barrier(napi_env env, napi_callback_info info) {
  SDFN_TRY
  need_group();
  finish(group.pg->barrier(), "barrier", 0);
  return nullptr;
  SDFN_CATCH
}

// distAllreduceHost(values: Float32Array): sums `values` over the ranks, in place.
napi_value AllreduceHost(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  need_group();
  size_t n = 0;
  float* data = float_array(env, argv[0], &n);
  at::Tensor t = at::from_blob(data, {static_cast<int64_t>(n)}, at::kFloat).to(group.device, /*non_blocking=*/false, /*copy=*/true);
  std::vector<at::Tensor> io{t};
  finish(group.pg->allreduce(io), "allreduce", t.nbytes());
  at::Tensor back = t.to(at::kCPU).contiguous();
  std::memcpy(data, back.data_ptr<float>(), n * sizeof(float));
  return nullptr;
  SDFN_CATCH
}

// distAllgather(values: Float32Array) → Float32Array[] (rank order); lengths may differ per rank.
napi_value Allgather(napi_env env, napi_callback_info info) {
  SDFN_ARGS(1);
  SDFN_TRY
  need_group();
  size_t n = 0;
  float* data = float_array(env, argv[0], &n);
  auto opts = at::TensorOptions().device(group.device);
  std::vector<at::Tensor> len_in{at::full({1}, static_cast<int64_t>(n), opts.dtype(at::kLong))};
  std::vector<std::vector<at::Tensor>> len_out(1);
  for (int r = 0; r < group.world; ++r) len_out[0].push_back(at::empty({1}, opts.dtype(at::kLong)));
  finish(group.pg->allgather(len_out, len_in), "allgather", 8);
  std::vector<int64_t> lens;
  int64_t longest = 0;
  for (auto& t : len_out[0]) longest = std::max(longest, lens.emplace_back(t.item<int64_t>()));
  if (longest == 0) longest = 1;  // Gloo divides by the payload size: never exchange nothing
  at::Tensor padded = at::zeros({longest}, opts.dtype(at::kFloat));
  if (n) padded.narrow(0, 0, n).copy_(at::from_blob(data, {static_cast<int64_t>(n)}, at::kFloat));
  std::vector<at::Tensor> in{padded};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < group.world; ++r) out[0].push_back(at::empty({longest}, opts.dtype(at::kFloat)));
  finish(group.pg->allgather(out, in), "allgather", padded.nbytes());
  napi_value result;
  napi_create_array_with_length(env, group.world, &result);
  for (int r = 0; r < group.world; ++r) {
    at::Tensor part = out[0][r].narrow(0, 0, lens[r]).to(at::kCPU).contiguous();
    void* bytes = nullptr;
    napi_value ab, arr;
    napi_create_arraybuffer(env, lens[r] * sizeof(float), &bytes, &ab);
    if (lens[r]) std::memcpy(bytes, part.data_ptr<float>(), lens[r] * sizeof(float));
    napi_create_typedarray(env, napi_float32_array, lens[r], ab, 0, &arr);
    napi_set_element(env, result, r, arr);
  }
  return result;
  SDFN_CATCH
}

// distStats() → { rank, world, collectives, bytes, seconds } since distInit.
napi_value Stats(napi_env env, napi_callback_info info) {
  napi_value out;
  napi_create_object(env, &out);
  set(env, out, "rank", make_number(env, group.rank));
  set(env, out, "world", make_number(env, group.world));
  set(env, out, "collectives", make_number(env, group.collectives));
  set(env, out, "bytes", make_number(env, group.bytes));
  set(env, out, "seconds", make_number(env, group.seconds));
  return out;
}

// distDestroy(): leaves the group (after a final barrier on the JS side); safe to call twice.
napi_value Destroy(napi_env env, napi_callback_info info) {
  SDFN_TRY
  group.pg.reset();
  group.store.reset();
  return nullptr;
  SDFN_CATCH
}

#endif  // SDFN_DIST

}  // namespace

std::vector<OpEntry> dist_ops() {
#ifdef SDFN_DIST
  return {{"DistAllreduce", dist_allreduce}, {"DistBroadcast", dist_broadcast}};
#else
  return {};
#endif
}

void register_dist(napi_env env, napi_value exports) {
  std::vector<napi_property_descriptor> props{method("distInfo", Info)};
#ifdef SDFN_DIST
  for (auto [name, fn] : {std::pair<const char*, napi_callback>{"distInit", Init}, {"distBarrier", Barrier},
                          {"distAllreduceHost", AllreduceHost}, {"distAllgather", Allgather}, {"distStats", Stats},
                          {"distDestroy", Destroy}})
    props.push_back(method(name, fn));
#endif
  define_methods(env, exports, props);
}

}  // namespace sdfn
