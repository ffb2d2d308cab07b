// oneDNN is looked up at run time: Debian's libtorch links the shared libdnnl.so.2 (loaded with
// this addon), while PyTorch wheels link it statically and export none of its symbols; then the
// oneDNN fields stay empty. ONEDNN_MAX_CPU_ISA (oneDNN's own variable) caps the ISA it reports.
#include "cpu-info.h"

#include <ATen/Version.h>
#include <dlfcn.h>

#include <cstdio>
#include <sstream>

namespace sdfn {
namespace {

struct DnnlVersion {  // dnnl_version_t (dnnl_types.h, stable since oneDNN 1.0)
  int major, minor, patch;
  const char* hash;
  unsigned cpu_runtime, gpu_runtime;
};

// dnnl_cpu_isa_t of the oneDNN 2.x line (dnnl_types.h); later lines renumbered some values.
const char* isa_name(int isa) {
  switch (isa) {
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0xf: return "avx512_mic";
    case 0x1f: return "avx512_mic_4ops";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    case 0x3e7: return "avx512_core_amx";
  }
  return nullptr;
}

void* onednn_symbol(const char* name) {
  for (const char* lib : {"libdnnl.so.2", "libdnnl.so.3", "libdnnl.so"}) {
    if (void* handle = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD)) {  // only if already loaded (by libtorch)
      if (void* f = dlsym(handle, name)) return f;
    }
  }
  return dlsym(RTLD_DEFAULT, name);
}

// "CPU capability usage: AVX2" in at::show_config().
std::string aten_capability() {
  std::istringstream config(at::show_config());
  const std::string key = "CPU capability usage: ";
  for (std::string line; std::getline(config, line);) {
    auto at = line.find(key);
    if (at != std::string::npos) return line.substr(at + key.size());
  }
  return "";
}

}  // namespace

CpuInfo cpu_info() {
  CpuInfo out;
  out.aten_capability = aten_capability();
  auto version = reinterpret_cast<const DnnlVersion* (*)()>(onednn_symbol("dnnl_version"));
  auto isa = reinterpret_cast<int (*)()>(onednn_symbol("dnnl_get_effective_cpu_isa"));
  if (version) {
    const DnnlVersion* v = version();
    out.onednn_version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }
  if (isa) {
    int value = isa();
    const char* name = out.onednn_version.rfind("2.", 0) == 0 ? isa_name(value) : nullptr;
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%x", value);
    out.onednn_isa = name ? name : hex;
  }
  return out;
}

}  // namespace sdfn
