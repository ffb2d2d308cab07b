// Reductions, scans, softmax and top-k (src/backend/torch/kernels/reduce.ts).
#include <algorithm>
#include <functional>

#include "../ops.h"

namespace sdfn {
namespace {

// ---- reductions: ints = keepDims, n, axes...
template <typename F>
void reduce(Call& c, F f) {
  const at::Tensor& x = c.in[0];
  bool keep = c.i[0];
  int64_t n = c.i[1];
  if (n == 0) {
    c.out.push_back(x);
    return;
  }
  c.out.push_back(f(x, ivec(c.i + 2, n), keep));
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

// Exclusive/reverse scans (tfjs Cumsum/Cumprod): ints = axis, exclusive, reverse.
template <typename F>
void scan(Call& c, F f, double identity) {
  at::Tensor x = c.in[0];
  int64_t axis = c.i[0];
  bool exclusive = c.i[1], reverse = c.i[2];
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
      OP("Sum", [](Call& c) { reduce(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::sum(x, ax, k, sum_type(x)); }); }),
      OP("Mean", [](Call& c) { reduce(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::mean(x.is_floating_point() ? x : x.to(at::kFloat), ax, k); }); }),
      OP("Max", [](Call& c) { reduce(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::amax(x, ax, k); }); }),
      OP("Min", [](Call& c) { reduce(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) { return at::amin(x, ax, k); }); }),
      OP("Prod", [](Call& c) { reduce(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) {
        return each_axis(x, ax, k, [](const at::Tensor& t, int64_t a, bool kk) { return at::prod(t, a, kk, sum_type(t)); }); }); }),
      OP("All", [](Call& c) { reduce(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) {
        return each_axis(x.to(at::kBool), ax, k, [](const at::Tensor& t, int64_t a, bool kk) { return at::all(t, a, kk); }); }); }),
      OP("Any", [](Call& c) { reduce(c, [](const at::Tensor& x, std::vector<int64_t> ax, bool k) {
        return each_axis(x.to(at::kBool), ax, k, [](const at::Tensor& t, int64_t a, bool kk) { return at::any(t, a, kk); }); }); }),
      OP("ArgMax", [](Call& c) { c.out.push_back(at::argmax(c.in[0], c.i[0])); }),
      OP("ArgMin", [](Call& c) { c.out.push_back(at::argmin(c.in[0], c.i[0])); }),
      OP("Cumsum", [](Call& c) { scan(c, [](const at::Tensor& x, int64_t a) { return at::cumsum(x, a, sum_type(x)); }, 0); }),
      OP("Cumprod", [](Call& c) { scan(c, [](const at::Tensor& x, int64_t a) { return at::cumprod(x, a, sum_type(x)); }, 1); }),
      OP("Softmax", [](Call& c) { c.out.push_back(at::softmax(c.in[0], c.i[0])); }),
      OP("TopK", [](Call& c) {
        auto r = at::topk(c.in[0], c.i[0], -1, true, true);
        c.out.push_back(std::get<0>(r));
        c.out.push_back(std::get<1>(r));
      }),
  };
}

}  // namespace sdfn
