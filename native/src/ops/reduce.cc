// Reductions, scans, softmax and top-k (src/backend/torch/kernels/reduce.ts).
#include <algorithm>
#include <functional>

#include "../ops.h"

namespace sdfn {
namespace {

// ---- reductions over the axes of kernel K
template <typename K, typename F>
void reduce(Call& c, F f) {
  const at::Tensor& x = c.in[K::in_x];
  bool keep = c.i[K::i_keepDims];
  int64_t n = c.i[K::i_n];
  if (n == 0) {
    c.out.push_back(x);
    return;
  }
  c.out.push_back(f(x, ivec(c.i + K::i_axes, n), keep));
}

// Reduces one axis at a time, highest first, for ATen reductions that take a single dim.
template <typename F>
at::Tensor each_axis(at::Tensor x, std::vector<int64_t> axes, bool keep, F f) {
  std::sort(axes.begin(), axes.end(), std::greater<int64_t>());
  for (int64_t a : axes) x = f(x, a, keep);
  return x;
}

c10::optional<at::ScalarType> sum_type(const at::Tensor& x) {
  return x.is_floating_point() ? c10::optional<at::ScalarType>() : c10::optional<at::ScalarType>(at::kInt);
}

// Exclusive/reverse scans (tfjs Cumsum/Cumprod).
template <typename K, typename F>
void scan(Call& c, F f, double identity) {
  at::Tensor x = c.in[K::in_x];
  int64_t axis = c.i[K::i_axis];
  bool exclusive = c.i[K::i_exclusive], reverse = c.i[K::i_reverse];
  if (reverse) x = x.flip({axis});
  at::Tensor y = f(x, axis);
  if (exclusive && x.size(axis) > 0) {
    std::vector<int64_t> pad(2 * (x.dim() - axis), 0);
    pad[pad.size() - 2] = 1;  // one `identity` in front along axis, drop the last
    y = at::constant_pad_nd(y.narrow(axis, 0, x.size(axis) - 1), pad, identity);
  }
  if (reverse) y = y.flip({axis});
  c.out.push_back(y);
}

}  // namespace

std::vector<OpEntry> reduce_ops() {
  return {
      OP("Sum", [](Call& c) { reduce<arg::Sum>(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::sum(x, ax, k, sum_type(x)); }); }),
      OP("Mean", [](Call& c) { reduce<arg::Mean>(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::mean(x.is_floating_point() ? x : x.to(at::kFloat), ax, k); }); }),
      OP("Max", [](Call& c) { reduce<arg::Max>(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::amax(x, ax, k); }); }),
      OP("Min", [](Call& c) { reduce<arg::Min>(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::amin(x, ax, k); }); }),
      OP("Prod", [](Call& c) { reduce<arg::Prod>(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) {
        return each_axis(x, ax, k, [](const at::Tensor& t, int64_t a, bool kk) { return at::prod(t, a, kk, sum_type(t)); }); }); }),
      OP("All", [](Call& c) { reduce<arg::All>(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) {
        return each_axis(x.to(at::kBool), ax, k, [](const at::Tensor& t, int64_t a, bool kk) { return at::all(t, a, kk); }); }); }),
      OP("Any", [](Call& c) { reduce<arg::Any>(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) {
        return each_axis(x.to(at::kBool), ax, k, [](const at::Tensor& t, int64_t a, bool kk) { return at::any(t, a, kk); }); }); }),
      OP("ArgMax", [](Call& c) { c.out.push_back(at::argmax(c.in[arg::ArgMax::in_x], c.i[arg::ArgMax::i_axis])); }),
      OP("ArgMin", [](Call& c) { c.out.push_back(at::argmin(c.in[arg::ArgMin::in_x], c.i[arg::ArgMin::i_axis])); }),
      OP("Cumsum", [](Call& c) { scan<arg::Cumsum>(c, [](const at::Tensor& x, int64_t a) { return at::cumsum(x, a, sum_type(x)); }, 0); }),
      OP("Cumprod", [](Call& c) { scan<arg::Cumprod>(c, [](const at::Tensor& x, int64_t a) { return at::cumprod(x, a, sum_type(x)); }, 1); }),
      OP("Softmax", [](Call& c) { c.out.push_back(at::softmax(c.in[arg::Softmax::in_logits], c.i[arg::Softmax::i_axis])); }),
      OP("TopK", [](Call& c) {
        auto r = at::topk(c.in[arg::TopK::in_x], c.i[arg::TopK::i_k], -1, true, true);
        c.out.push_back(std::get<0>(r));
        c.out.push_back(std::get<1>(r));
      }),
  };
}

}  // namespace sdfn
