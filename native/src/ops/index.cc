// The table of native kernels, assembled from one file per family (native/src/ops/<family>.cc,
// beside src/backend/torch/kernels/<family>.ts), and the dtype codes shared with native.ts.
#include "../dist.h"
#include "../ops.h"

namespace sdfn {

at::ScalarType scalar_type(int code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kInt;
    case 2: return at::kBool;
  }
  throw std::runtime_error("sdfn torch: unknown dtype code " + std::to_string(code));
}

int dtype_code(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return 0;
    case at::kInt: return 1;
    case at::kBool: return 2;
    default: throw std::runtime_error(std::string("sdfn torch: no tfjs dtype for ") + at::toString(type));
  }
}

const std::vector<OpEntry>& op_table() {
  static const std::vector<OpEntry> table = [] {
    std::vector<OpEntry> all;
    for (auto family : {elementwise_ops, reduce_ops, layout_ops, nn_ops, sdfn_ops, random_ops, dist_ops}) {
      std::vector<OpEntry> ops = family();
      all.insert(all.end(), ops.begin(), ops.end());
    }
    return all;
  }();
  return table;
}

}  // namespace sdfn
