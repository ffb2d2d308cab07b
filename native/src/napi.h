// The N-API glue every native file shares (addon.cc, program-napi.cc, memory.cc, dist.cc, cuda-graph.cc): reading
// the arguments, the try/catch that turns a C++ exception into a JS Error, and value conversions.
#pragma once
#include <c10/util/Exception.h>
#include <node_api.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace sdfn {

// Throws a JS Error with `msg`; returns what an N-API function then returns.
inline napi_value throw_error(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

// The first n arguments of the call as argv[0..n) (argc: how many were given).
#define SDFN_ARGS(n)                  \
  size_t argc = n;                    \
  napi_value argv[(n) > 0 ? (n) : 1]; \
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr)

// SDFN_TRY … SDFN_CATCH around an N-API function's body: a C++ (or ATen) exception becomes a JS Error.
#define SDFN_TRY try {
#define SDFN_CATCH                                     \
  }                                                    \
  catch (const c10::Error& e) {                        \
    return ::sdfn::throw_error(env, e.what_without_backtrace()); \
  }                                                    \
  catch (const std::exception& e) {                    \
    return ::sdfn::throw_error(env, e.what());         \
  }

inline int32_t int_arg(napi_env env, napi_value v) {
  int32_t x = 0;
  napi_get_value_int32(env, v, &x);
  return x;
}

inline uint32_t uint_arg(napi_env env, napi_value v) {
  uint32_t x = 0;
  napi_get_value_uint32(env, v, &x);
  return x;
}

inline double number_arg(napi_env env, napi_value v) {
  double x = 0;
  napi_get_value_double(env, v, &x);
  return x;
}

inline std::string string_arg(napi_env env, napi_value v) {
  size_t len = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

inline napi_value make_number(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

// A typed array's data and element count (its type in *type when asked); throws for anything else.
inline void* typed_array(napi_env env, napi_value v, size_t* length, napi_typedarray_type* type = nullptr, napi_value* buffer = nullptr) {
  napi_typedarray_type t;
  void* data = nullptr;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &t, length, &data, &ab, &offset) != napi_ok) throw std::runtime_error("sdfn torch: expected a typed array");
  if (type) *type = t;
  if (buffer) *buffer = ab;
  return data;
}

template <typename T>
T* typed(napi_env env, napi_value v, size_t* length) {
  return static_cast<T*>(typed_array(env, v, length));
}

// A function property of the exports object.
inline napi_property_descriptor method(const char* name, napi_callback fn) {
  return {name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr};
}

// Defines `methods` on exports.
inline void define_methods(napi_env env, napi_value exports, const std::vector<napi_property_descriptor>& methods) {
  napi_define_properties(env, exports, methods.size(), methods.data());
}

}  // namespace sdfn
