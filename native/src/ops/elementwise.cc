// Elementwise kernels (src/backend/torch/kernels/elementwise.ts): one ATen call each, with
// numpy broadcasting as tfjs. Elementwise entries may take 0-dim CPU scalars beside CUDA tensors.
// The common ones of a backward pass are on the in-place list (OpEntry::overwrites 1): in a replay
// that grants it (Call::overwrite) they write into their first input's storage.
#include <ATen/ExpandUtils.h>

#include "../ops.h"

namespace sdfn {
namespace {

void select_op(Call& c) {
  using K = arg::Select;
  at::Tensor cond = c.in[K::in_condition];
  if (cond.scalar_type() != at::kBool) cond = cond != 0;
  const at::Tensor& t = c.in[K::in_t];
  if (cond.dim() == 1 && t.dim() > 1) {  // tfjs: a rank-1 condition picks whole rows
    std::vector<int64_t> shape(t.dim(), 1);
    shape[0] = cond.size(0);
    cond = cond.reshape(shape);
  }
  c.out.push_back(at::where(cond, t, c.in[K::in_e]));
}

at::Tensor cast_to(const at::Tensor& x, at::ScalarType type) {
  if (type == at::kBool) return x != 0;
  return x.to(type);
}

at::Tensor real_div(const at::Tensor& a, const at::Tensor& b) {
  bool ints = !a.is_floating_point() && !b.is_floating_point();
  return ints ? at::div(a, b, "trunc") : at::div(a, b);
}

// tfjs step: x > 0 ? 1 : alpha, NaN stays NaN. With alpha 0 (ReLU's gradient) this is
// heaviside(x, 0): one pass instead of four, but NaN gives 0 there (NaN activations mean a
// NaN loss, and the trainer skips such a step anyway).
at::Tensor step(const at::Tensor& x, double alpha) {
  if (alpha == 0 && x.is_floating_point()) return at::heaviside(x, at::zeros({}, x.options()));
  at::Tensor y = at::where(x > 0, at::ones_like(x), at::full_like(x, alpha));
  return x.is_floating_point() ? at::where(at::isnan(x), x, y) : y;
}

// Whether the result of a float op on x may go into x's storage: granted, and x is a dense float
// tensor on the working device whose shape (and dtype) the result keeps (`other` broadcasts into it).
bool writable(const Call& c, const at::Tensor& x, const at::Tensor* other = nullptr) {
  if (!c.overwrite || x.device().type() != c.device.type() || !x.is_floating_point() || !x.is_non_overlapping_and_dense()) return false;
  if (!other) return true;
  return at::result_type(x, *other) == x.scalar_type() && x.sizes() == at::IntArrayRef(at::infer_size(x.sizes(), other->sizes()));
}

// a + b + … (tfjs: equal shapes and dtypes) summed into one tensor: a's own when writable, else a
// new one (not one per addition).
void add_n(Call& c) {
  if (c.in.size() == 1) {
    c.out.push_back(c.in[0]);
    return;
  }
  at::Tensor sum = c.in[0];
  sum = writable(c, sum, &c.in[1]) ? sum.add_(c.in[1]) : at::add(sum, c.in[1]);
  for (size_t k = 2; k < c.in.size(); ++k) {
    const at::Tensor& x = c.in[k];
    bool into = sum.device() == x.device() && sum.sizes() == x.sizes() && at::result_type(sum, x) == sum.scalar_type();
    sum = into ? sum.add_(x) : sum + x;
  }
  c.out.push_back(sum);
}

#define UNARY(NAME, EXPR) \
  { NAME, [](Call& c) { const at::Tensor& x = c.in[0]; c.out.push_back(EXPR); }, true }
#define BINARY(NAME, EXPR) \
  { NAME, [](Call& c) { const at::Tensor& a = c.in[0]; const at::Tensor& b = c.in[1]; c.out.push_back(EXPR); }, true }
// On the in-place list: at::FN(x), or x.FN_() into x's storage when the replay grants it.
#define UNARY_INTO(NAME, FN) \
  { NAME, [](Call& c) { at::Tensor x = c.in[0]; c.out.push_back(writable(c, x) ? x.FN##_() : at::FN(x)); }, true, 1 }
// On the in-place list: at::FN(a, b), or a.FN_(b) into a's storage when granted and b broadcasts into a.
#define BINARY_INTO(NAME, FN) \
  { NAME, [](Call& c) { at::Tensor a = c.in[0]; const at::Tensor& b = c.in[1]; c.out.push_back(writable(c, a, &b) ? a.FN##_(b) : at::FN(a, b)); }, true, 1 }

}  // namespace

std::vector<OpEntry> elementwise_ops() {
  return {
      // elementwise, one input
      UNARY_INTO("Abs", abs), UNARY("Acos", at::acos(x)), UNARY("Acosh", at::acosh(x)), UNARY("Asin", at::asin(x)),
      UNARY("Asinh", at::asinh(x)), UNARY("Atan", at::atan(x)), UNARY("Atanh", at::atanh(x)), UNARY("Ceil", at::ceil(x)),
      UNARY("Cos", at::cos(x)), UNARY("Cosh", at::cosh(x)), UNARY("Elu", at::elu(x)), UNARY("Erf", at::erf(x)),
      UNARY_INTO("Exp", exp), UNARY("Expm1", at::expm1(x)), UNARY("Floor", at::floor(x)),
      UNARY("IsFinite", at::isfinite(x)), UNARY("IsInf", at::isinf(x)), UNARY("IsNan", at::isnan(x)),
      UNARY_INTO("Log", log), UNARY("Log1p", at::log1p(x)), UNARY("LogicalNot", at::logical_not(x)),
      UNARY_INTO("Neg", neg), UNARY_INTO("Reciprocal", reciprocal), UNARY_INTO("Relu", relu),
      UNARY("Relu6", at::clamp(x, 0, 6)), UNARY("Round", at::round(x)), UNARY_INTO("Rsqrt", rsqrt),
      UNARY("Selu", at::selu(x)), UNARY_INTO("Sigmoid", sigmoid), UNARY("Sign", at::sign(x)), UNARY("Sin", at::sin(x)),
      UNARY("Sinh", at::sinh(x)), UNARY("Softplus", at::softplus(x)), UNARY_INTO("Sqrt", sqrt),
      UNARY_INTO("Square", square), UNARY("Tan", at::tan(x)), UNARY_INTO("Tanh", tanh),
      UNARY("ZerosLike", at::zeros_like(x)), UNARY("OnesLike", at::ones_like(x)),
      UNARY("Step", step(x, c.f[arg::Step::f_alpha])),
      UNARY("LeakyRelu", at::where(x < 0, x * c.f[arg::LeakyRelu::f_alpha], x)),
      UNARY("ClipByValue", at::clamp(x, c.f[arg::ClipByValue::f_min], c.f[arg::ClipByValue::f_max])),
      UNARY("Cast", cast_to(x, scalar_type(c.i[arg::Cast::i_dtype]))),
      // elementwise, two inputs (numpy broadcasting, as tfjs)
      BINARY_INTO("Add", add), BINARY_INTO("Sub", sub), BINARY_INTO("Multiply", mul),
      {"RealDiv", [](Call& c) {
        at::Tensor a = c.in[0];
        const at::Tensor& b = c.in[1];
        c.out.push_back(writable(c, a, &b) ? a.div_(b) : real_div(a, b));
      }, true, 1},
      BINARY("FloorDiv", at::div(a, b, "floor").to(at::kInt))  /* tfjs: always int32 */,
      BINARY("Maximum", at::maximum(a, b)), BINARY("Minimum", at::minimum(a, b)), BINARY("Pow", at::pow(a, b)),
      BINARY("SquaredDifference", at::square(at::sub(a, b))), BINARY("Mod", at::remainder(a, b)),
      BINARY("Atan2", at::atan2(a, b)), BINARY("Equal", at::eq(a, b)), BINARY("NotEqual", at::ne(a, b)),
      BINARY("Greater", at::gt(a, b)), BINARY("GreaterEqual", at::ge(a, b)), BINARY("Less", at::lt(a, b)),
      BINARY("LessEqual", at::le(a, b)), BINARY("LogicalAnd", at::logical_and(a, b)),
      BINARY("LogicalOr", at::logical_or(a, b)),
      // where() wants its operands on one device: these move CPU scalars like non-elementwise kernels
      OP("Prelu", [](Call& c) {
        const at::Tensor& x = c.in[arg::Prelu::in_x];
        c.out.push_back(at::where(x < 0, x * c.in[arg::Prelu::in_alpha], x));
      }),
      OP("EluGrad", [](Call& c) {
        const at::Tensor& dy = c.in[arg::EluGrad::in_dy];
        const at::Tensor& y = c.in[arg::EluGrad::in_y];
        c.out.push_back(at::where(y < 0, dy * (y + 1), dy));
      }),
      {"AddN", add_n, true, 1},
      OP("Select", select_op),
  };
}

}  // namespace sdfn
