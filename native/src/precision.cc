// training.precision for the torch backend: the operand type of the autocast kernels (precision.h).
#include "precision.h"

#include <string>

namespace sdfn {

at::ScalarType compute_dtype = at::kFloat;

napi_value SetPrecision(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char name[16] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof(name), &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "sdfn torch: setPrecision expects \"fp32\" or \"bf16\"");
    return nullptr;
  }
  const std::string p(name, len);
  if (p == "fp32") {
    compute_dtype = at::kFloat;
  } else if (p == "bf16") {
    compute_dtype = at::kBFloat16;
  } else {
    napi_throw_error(env, nullptr, ("sdfn torch: unknown precision \"" + p + "\" (fp32 or bf16)").c_str());
  }
  return nullptr;
}

}  // namespace sdfn
