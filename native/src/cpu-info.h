// What the CPU side of libtorch runs with here, for `sdfn doctor` and bug reports: oneDNN's
// version and the instruction set it dispatches to, and ATen's own vectorised kernel level.
#pragma once
#include <string>

namespace sdfn {

struct CpuInfo {
  std::string onednn_version;  // "2.6.3", or "" when libtorch's oneDNN is not visible (see .cc)
  std::string onednn_isa;      // "avx512_core_bf16", or "0x…" for a value this table lacks
  std::string aten_capability; // "AVX2", "AVX512", "DEFAULT" (ATen's vectorised CPU kernels)
};

CpuInfo cpu_info();

}  // namespace sdfn
