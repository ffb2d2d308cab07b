// The kernels of the sdfn torch backend: each takes tfjs-layout inputs (NHWC images,
// [kh, kw, in, out] filters) and attributes laid out by src/backend/torch/kernels/*.ts,
// and produces tfjs-layout outputs. NHWC tensors are viewed as channels-last NCHW (no copy).
#include "ops.h"

#include <cmath>
#include <limits>

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

namespace {

constexpr auto kCL = at::MemoryFormat::ChannelsLast;

std::vector<int64_t> ivec(const int32_t* p, int64_t n) { return std::vector<int64_t>(p, p + n); }

// NHWC <-> NCHW views: an NHWC-contiguous tensor is a channels-last NCHW tensor.
at::Tensor nchw(const at::Tensor& x) { return x.permute({0, 3, 1, 2}).contiguous(kCL); }
at::Tensor nhwc(const at::Tensor& y) {
  at::Tensor t = y.permute({0, 2, 3, 1});
  return t.is_contiguous() ? t : t.contiguous();
}

// tfjs filter [kh, kw, in, out] (depthwise: [kh, kw, C, M]) as an ATen weight [out, in/groups, kh, kw].
at::Tensor oihw(const at::Tensor& w, bool depthwise) {
  if (!depthwise) return w.permute({3, 2, 0, 1}).contiguous(kCL);
  return w.reshape({w.size(0), w.size(1), -1}).permute({2, 0, 1}).unsqueeze(1).contiguous(kCL);
}

// Window geometry written by the JS side: strides, dilations, pads top/bottom/left/right.
struct Geom {
  std::vector<int64_t> stride, dilation;
  int64_t t, b, l, r;
  bool symmetric() const { return t == b && l == r; }
  std::vector<int64_t> padding() const { return symmetric() ? std::vector<int64_t>{t, l} : std::vector<int64_t>{0, 0}; }
  at::Tensor pad(const at::Tensor& xv, double value = 0) const {
    if (symmetric()) return xv;
    return at::constant_pad_nd(xv, {l, r, t, b}, value).contiguous(kCL);
  }
  at::Tensor unpad(const at::Tensor& g, int64_t h, int64_t w) const {
    return symmetric() ? g : g.narrow(2, t, h).narrow(3, l, w);
  }
};
Geom geom(const int32_t* i) { return Geom{{i[0], i[1]}, {i[2], i[3]}, i[4], i[5], i[6], i[7]}; }

// Fused activations: 0 linear, 1 relu, 2 relu6, 3 prelu, 4 leakyrelu, 5 sigmoid, 6 elu.
at::Tensor activate(at::Tensor y, int act, const at::Tensor& prelu, double alpha) {
  switch (act) {
    case 0: return y;
    case 1: return at::relu(y);
    case 2: return at::clamp(y, 0, 6);
    case 3: return at::where(y < 0, y * prelu, y);
    case 4: return at::leaky_relu(y, alpha);
    case 5: return at::sigmoid(y);
    case 6: return at::elu(y);
  }
  throw std::runtime_error("sdfn torch: unknown fused activation " + std::to_string(act));
}

// ---- convolution: ints = geom(8), depthwise, activation | input shape | filter shape
void conv2d(Call& c) {
  Geom g = geom(c.i);
  bool depthwise = c.i[8];
  at::Tensor x = c.dev(0), w = c.dev(1);
  at::Tensor xv = g.pad(nchw(x));
  at::Tensor bias;
  bool bias_in_conv = c.in.size() > 2 && c.in[2].defined() && c.in[2].dim() == 1 && c.in[2].size(0) == w.size(3) * (depthwise ? w.size(2) : 1);
  if (bias_in_conv) bias = c.dev(2);
  int64_t groups = depthwise ? x.size(3) : 1;
  at::Tensor y = nhwc(at::conv2d(xv, oihw(w, depthwise), bias, g.stride, g.padding(), g.dilation, groups));
  if (c.in.size() > 2 && c.in[2].defined() && !bias_in_conv) y = y + c.dev(2);
  at::Tensor prelu = c.in.size() > 3 && c.in[3].defined() ? c.dev(3) : at::Tensor();
  c.out.push_back(activate(y, c.i[9], prelu, c.f[0]));
}

void conv2d_input(Call& c) {  // in: dy, filter; ints: geom, depthwise, N, H, W, C
  Geom g = geom(c.i);
  bool depthwise = c.i[8];
  int64_t n = c.i[9], h = c.i[10], w = c.i[11], ch = c.i[12];
  at::Tensor go = nchw(c.dev(0));
  at::Tensor weight = oihw(c.dev(1), depthwise);
  int64_t hp = g.symmetric() ? h : h + g.t + g.b, wp = g.symmetric() ? w : w + g.l + g.r;
  at::Tensor input = at::empty({n, ch, hp, wp}, go.options().memory_format(kCL));
  auto grads = at::convolution_backward(go, input, weight, c10::nullopt, g.stride, g.padding(), g.dilation, false, {0, 0},
                                        depthwise ? ch : 1, {true, false, false});
  c.out.push_back(nhwc(g.unpad(std::get<0>(grads), h, w)));
}

void conv2d_filter(Call& c) {  // in: x, dy; ints: geom, depthwise, kh, kw, in, out (depthwise: kh, kw, C, M)
  Geom g = geom(c.i);
  bool depthwise = c.i[8];
  int64_t kh = c.i[9], kw = c.i[10], ci = c.i[11], co = c.i[12];
  at::Tensor xv = g.pad(nchw(c.dev(0)));
  at::Tensor go = nchw(c.dev(1));
  at::Tensor weight = depthwise ? at::empty({ci * co, 1, kh, kw}, go.options().memory_format(kCL))
                                : at::empty({co, ci, kh, kw}, go.options().memory_format(kCL));
  auto grads = at::convolution_backward(go, xv, weight, c10::nullopt, g.stride, g.padding(), g.dilation, false, {0, 0},
                                        depthwise ? ci : 1, {false, true, false});
  at::Tensor gw = std::get<1>(grads);
  if (depthwise) c.out.push_back(gw.squeeze(1).permute({1, 2, 0}).reshape({kh, kw, ci, co}).contiguous());
  else c.out.push_back(gw.permute({2, 3, 1, 0}));  // a strided view (no copy): later kernels read strides
}

// ---- pooling: ints = kh, kw, geom(8) (dilation 1)
struct Pool {
  std::vector<int64_t> kernel;
  Geom g;
  // ATen pads implicitly only symmetrically and by at most half the window.
  bool implicit() const { return g.symmetric() && g.t <= kernel[0] / 2 && g.l <= kernel[1] / 2; }
  std::vector<int64_t> padding() const { return implicit() ? std::vector<int64_t>{g.t, g.l} : std::vector<int64_t>{0, 0}; }
  at::Tensor pad(const at::Tensor& xv, double value) const {
    return implicit() ? xv : at::constant_pad_nd(xv, {g.l, g.r, g.t, g.b}, value).contiguous(kCL);
  }
  at::Tensor unpad(const at::Tensor& t, int64_t h, int64_t w) const {
    return implicit() ? t : t.narrow(2, g.t, h).narrow(3, g.l, w);
  }
  // Number of in-bounds elements under each window: [1, 1, Ho, Wo] (tfjs averages over those only).
  at::Tensor count(int64_t h, int64_t w, const at::TensorOptions& o) const {
    at::Tensor ones = at::constant_pad_nd(at::ones({1, 1, h, w}, o), {g.l, g.r, g.t, g.b}, 0);
    return at::avg_pool2d(ones, kernel, g.stride, {0, 0}, false, true, 1);
  }
};
Pool pool(const int32_t* i) { return Pool{{i[0], i[1]}, geom(i + 2)}; }

void max_pool(Call& c) {
  Pool p = pool(c.i);
  at::Tensor xv = p.pad(nchw(c.dev(0)), -std::numeric_limits<double>::infinity());
  c.out.push_back(nhwc(at::max_pool2d(xv, p.kernel, p.g.stride, p.padding(), {1, 1}, false)));
}

void max_pool_grad(Call& c) {  // in: dy, x, y
  Pool p = pool(c.i);
  at::Tensor x = c.dev(1);
  at::Tensor xv = p.pad(nchw(x), -std::numeric_limits<double>::infinity());
  auto yi = at::max_pool2d_with_indices(xv, p.kernel, p.g.stride, p.padding(), {1, 1}, false);
  at::Tensor gi = at::max_pool2d_with_indices_backward(nchw(c.dev(0)), xv, p.kernel, p.g.stride, p.padding(), {1, 1}, false,
                                                       std::get<1>(yi));
  c.out.push_back(nhwc(p.unpad(gi, x.size(1), x.size(2))));
}

void avg_pool(Call& c) {
  Pool p = pool(c.i);
  at::Tensor x = c.dev(0);
  at::Tensor xv = nchw(x);
  if (p.implicit()) {
    c.out.push_back(nhwc(at::avg_pool2d(xv, p.kernel, p.g.stride, p.padding(), false, false, c10::nullopt)));
    return;
  }
  at::Tensor sum = at::avg_pool2d(p.pad(xv, 0), p.kernel, p.g.stride, {0, 0}, false, true, 1);
  c.out.push_back(nhwc(sum / p.count(x.size(1), x.size(2), x.options())));
}

// tfjs's AvgPoolGrad spreads dy / (kh * kw) over every window, padded positions included
// (unlike its forward pass, which averages over in-bounds elements only); matched here.
void avg_pool_grad(Call& c) {  // in: dy, x
  Pool p = pool(c.i);
  at::Tensor x = c.dev(1);
  at::Tensor go = nchw(c.dev(0));
  Geom g = p.g;
  at::Tensor xv = nchw(x);
  at::Tensor xp = g.t || g.b || g.l || g.r ? at::constant_pad_nd(xv, {g.l, g.r, g.t, g.b}, 0).contiguous(kCL) : xv;
  at::Tensor gi = at::avg_pool2d_backward(go, xp, p.kernel, g.stride, {0, 0}, false, true, c10::nullopt);
  if (xp.size(2) != x.size(1) || xp.size(3) != x.size(2)) gi = gi.narrow(2, g.t, x.size(1)).narrow(3, g.l, x.size(2));
  c.out.push_back(nhwc(gi));
}

// ---- matrix products and normalisation
// Operands that are neither contiguous nor a transposed contiguous tensor (slices, broadcast
// or permuted views) are copied once: strided views made ATen's CPU matmul ~6× slower.
at::Tensor blas_ready(const at::Tensor& t) {
  if (t.dim() < 2 || t.is_contiguous() || t.transpose(-1, -2).is_contiguous()) return t;
  return t.contiguous();
}
// On the CPU transposed operands are rearranged for the BLAS (Debian's reference BLAS runs
// a·bᵀ about 2× and a cold aᵀ·b up to 6× slower than the forms below); results may be views.
void batch_mat_mul(Call& c) {  // in: a, b, [bias, prelu]; ints: transposeA, transposeB, activation; f: alpha
  at::Tensor a = blas_ready(c.dev(0)), b = blas_ready(c.dev(1));
  at::Tensor y;
  bool ta = c.i[0], tb = c.i[1];
  if (!a.device().is_cpu() || (!ta && !tb)) {
    y = at::matmul(ta ? a.transpose(-1, -2) : a, tb ? b.transpose(-1, -2) : b);
  } else if (ta && tb) {
    y = at::matmul(b, a).transpose(-1, -2);  // aᵀ·bᵀ = (b·a)ᵀ
  } else if (ta) {
    y = at::matmul(b.transpose(-1, -2), a).transpose(-1, -2);  // aᵀ·b = (bᵀ·a)ᵀ
  } else {
    y = at::matmul(a, b.transpose(-1, -2).contiguous());  // a·bᵀ with bᵀ materialised
  }
  if (c.in.size() > 2 && c.in[2].defined()) y = y + c.dev(2);
  at::Tensor prelu = c.in.size() > 3 && c.in[3].defined() ? c.dev(3) : at::Tensor();
  c.out.push_back(activate(y, c.i[2], prelu, c.f[0]));
}

void batch_norm(Call& c) {  // in: x, mean, variance, offset?, scale?; f: epsilon
  // y = x * inv + (offset - mean * inv), inv = scale / sqrt(var + eps): one pass over x.
  at::Tensor inv = at::rsqrt(c.in[2] + c.f[0]);
  if (c.in[4].defined()) inv = inv * c.in[4];
  at::Tensor shift = -c.in[1] * inv;
  if (c.in[3].defined()) shift = shift + c.in[3];
  c.out.push_back(at::addcmul(shift, c.in[0], inv));
}

// Batch norm in training mode over every axis but the last (channels), as PyTorch's fused
// kernels: forward gives y, the batch mean and 1/sqrt(var + eps); backward dx, dgamma, dbeta.
at::Tensor channels_first(const at::Tensor& x) {
  return x.dim() == 4 ? nchw(x) : x.movedim(-1, 1);
}
at::Tensor channels_last(const at::Tensor& y) {
  return y.dim() == 4 ? nhwc(y) : y.movedim(1, -1).contiguous();
}

void batch_norm_train(Call& c) {  // in: x, gamma, beta; f: eps
  auto r = at::native_batch_norm(channels_first(c.in[0]), c.in[1], c.in[2], {}, {}, true, 0.0, c.f[0]);
  c.out.push_back(channels_last(std::get<0>(r)));
  c.out.push_back(std::get<1>(r));
  c.out.push_back(std::get<2>(r));
}

void batch_norm_train_grad(Call& c) {  // in: dy, x, gamma, mean, invstd; f: eps
  auto r = at::native_batch_norm_backward(channels_first(c.in[0]), channels_first(c.in[1]), c.in[2], {}, {}, c.in[3], c.in[4],
                                          true, c.f[0], {true, true, true});
  c.out.push_back(channels_last(std::get<0>(r)));
  c.out.push_back(std::get<1>(r));
  c.out.push_back(std::get<2>(r));
}

// One Adam step for one parameter in ~6 passes (tfjs ops take ~15): in: variable, m, v, grad;
// f: lr, beta1, beta2, eps, bias1, bias2, weight decay; ints: decoupled. Outputs: variable, m, v.
void adam_step(Call& c) {
  const at::Tensor& var = c.in[0];
  double lr = c.f[0], b1 = c.f[1], b2 = c.f[2], eps = c.f[3], bias1 = c.f[4], bias2 = c.f[5], wd = c.f[6];
  bool decoupled = c.i[0];
  at::Tensor g = !decoupled && wd > 0 ? at::add(c.in[3], var, wd) : c.in[3];
  at::Tensor m = at::lerp(c.in[1], g, 1 - b1);
  at::Tensor v = at::addcmul(c.in[2] * b2, g, g, 1 - b2);
  at::Tensor denom = (v / bias2).sqrt_().add_(eps);
  at::Tensor base = decoupled && wd > 0 ? var * (1 - lr * wd) : var;
  c.out.push_back(at::addcdiv(base, m, denom, -lr / bias1));
  c.out.push_back(m);
  c.out.push_back(v);
}

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

// ---- gathers and scatters
at::Tensor as_long(const at::Tensor& t) { return t.to(at::kLong); }

// Row-major flat index into params' first K dims for indices [..., K].
at::Tensor flat_index(const at::Tensor& params, const at::Tensor& indices, int64_t k) {
  std::vector<int64_t> strides(k);
  int64_t s = 1;
  for (int64_t d = k - 1; d >= 0; --d) {
    strides[d] = s;
    s *= params.size(d);
  }
  at::Tensor st = at::tensor(strides, at::TensorOptions().dtype(at::kLong)).to(indices.device());
  return (as_long(indices) * st).sum(-1);
}

std::vector<int64_t> tail(const at::Tensor& t, int64_t from) {
  return std::vector<int64_t>(t.sizes().begin() + from, t.sizes().end());
}

void gather(Call& c) {  // in: x, indices; ints: axis, batchDims
  at::Tensor x = c.dev(0), idx = as_long(c.dev(1));
  int64_t axis = c.i[0], bd = c.i[1];
  if (bd == 0) {
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
    for (int64_t s : idx.sizes()) shape.push_back(s);
    for (int64_t d = axis + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
    c.out.push_back(x.index_select(axis, idx.reshape({-1})).reshape(shape));
    return;
  }
  // batchDims > 0: fold the batch into the gathered axis with per-batch offsets.
  int64_t batch = 1;
  for (int64_t d = 0; d < bd; ++d) batch *= x.size(d);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  for (int64_t d = bd; d < idx.dim(); ++d) shape.push_back(idx.size(d));
  for (int64_t d = axis + 1; d < x.dim(); ++d) shape.push_back(x.size(d));
  int64_t outer = 1;
  for (int64_t d = bd; d < axis; ++d) outer *= x.size(d);
  at::Tensor xf = x.reshape({batch, outer, x.size(axis), -1});
  at::Tensor idf = idx.reshape({batch, 1, -1, 1}).expand({batch, outer, -1, xf.size(3)});
  c.out.push_back(at::gather(xf, 2, idf).reshape(shape));
}

void gather_nd(Call& c) {  // in: params, indices [..., K]
  at::Tensor p = c.dev(0), idx = c.dev(1);
  int64_t k = idx.size(-1);
  std::vector<int64_t> rest = tail(p, k);
  std::vector<int64_t> shape(idx.sizes().begin(), idx.sizes().end() - 1);
  shape.insert(shape.end(), rest.begin(), rest.end());
  std::vector<int64_t> flat_shape{-1};
  flat_shape.insert(flat_shape.end(), rest.begin(), rest.end());
  c.out.push_back(p.reshape(flat_shape).index_select(0, flat_index(p, idx, k).reshape({-1})).reshape(shape));
}

void scatter_nd(Call& c) {  // in: indices [..., K], updates; ints: rank, shape
  at::Tensor idx = c.dev(0), upd = c.dev(1);
  std::vector<int64_t> shape = ivec(c.i + 1, c.i[0]);
  int64_t k = idx.size(-1);
  at::Tensor out = at::zeros(shape, upd.options());
  std::vector<int64_t> flat_shape{-1};
  for (size_t d = k; d < shape.size(); ++d) flat_shape.push_back(shape[d]);
  at::Tensor flat = out.view(flat_shape);
  flat.index_add_(0, flat_index(out, idx, k).reshape({-1}), upd.reshape(flat_shape));
  c.out.push_back(out);
}

void segment_sum(Call& c) {  // in: x, segmentIds; ints: numSegments
  at::Tensor x = c.dev(0), ids = as_long(c.dev(1)).reshape({-1});
  std::vector<int64_t> rest = tail(x, c.in[1].dim());
  std::vector<int64_t> flat_shape{ids.size(0)}, shape{c.i[0]};
  flat_shape.insert(flat_shape.end(), rest.begin(), rest.end());
  shape.insert(shape.end(), rest.begin(), rest.end());
  at::Tensor out = at::zeros(shape, x.options());
  out.index_add_(0, ids, x.reshape(flat_shape));
  c.out.push_back(out);
}

// ---- layout
void strided_slice(Call& c) {  // ints: rank, (begin, stride, size) per dim, final rank, final shape
  at::Tensor x = c.in[0];
  int64_t r = c.i[0];
  for (int64_t d = 0; d < r; ++d) {
    int64_t b = c.i[1 + 3 * d], s = c.i[2 + 3 * d], n = c.i[3 + 3 * d];
    if (n == 0) {
      x = x.narrow(d, 0, 0);
    } else if (s > 0) {
      x = x.slice(d, b, b + (n - 1) * s + 1, s);
    } else {
      x = x.index_select(d, at::arange(b, b + n * s, s, at::TensorOptions().dtype(at::kLong).device(x.device())));
    }
  }
  const int32_t* fin = c.i + 1 + 3 * r;
  c.out.push_back(x.reshape(ivec(fin + 1, fin[0])));
}

void mirror_pad(Call& c) {  // ints: rank, (before, after) per dim, mode (0 reflect, 1 symmetric)
  at::Tensor x = c.dev(0);
  int64_t r = c.i[0];
  bool symmetric = c.i[1 + 2 * r];
  for (int64_t d = 0; d < r; ++d) {
    int64_t before = c.i[1 + 2 * d], after = c.i[2 + 2 * d], n = x.size(d);
    if (before == 0 && after == 0) continue;
    std::vector<int64_t> idx;
    for (int64_t k = -before; k < n + after; ++k) {
      int64_t j = k;
      if (j < 0) j = symmetric ? -j - 1 : -j;
      if (j >= n) j = symmetric ? 2 * n - 1 - j : 2 * n - 2 - j;
      idx.push_back(j);
    }
    x = x.index_select(d, at::tensor(idx, at::TensorOptions().dtype(at::kLong)).to(x.device()));
  }
  c.out.push_back(x);
}

void one_hot(Call& c) {  // in: indices; ints: depth, dtype; f: on, off
  at::Tensor idx = c.dev(0);
  at::Tensor hit = idx.unsqueeze(-1) == at::arange(c.i[0], c.opts(at::kInt));
  at::ScalarType type = scalar_type(c.i[1]);
  c.out.push_back(at::where(hit, at::scalar_tensor(c.f[0], c.opts(type)), at::scalar_tensor(c.f[1], c.opts(type))));
}

void select_op(Call& c) {  // in: condition, t, e
  at::Tensor cond = c.in[0];
  if (cond.scalar_type() != at::kBool) cond = cond != 0;
  const at::Tensor& t = c.in[1];
  if (cond.dim() == 1 && t.dim() > 1) {  // tfjs: a rank-1 condition picks whole rows
    std::vector<int64_t> shape(t.dim(), 1);
    shape[0] = cond.size(0);
    cond = cond.reshape(shape);
  }
  c.out.push_back(at::where(cond, t, c.in[2]));
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

#define UNARY(NAME, EXPR) \
  { NAME, [](Call& c) { const at::Tensor& x = c.in[0]; c.out.push_back(EXPR); }, true }
#define BINARY(NAME, EXPR) \
  { NAME, [](Call& c) { const at::Tensor& a = c.in[0]; const at::Tensor& b = c.in[1]; c.out.push_back(EXPR); }, true }
#define OP(NAME, FN) \
  { NAME, FN }

}  // namespace

const std::vector<OpEntry>& op_table() {
  static const std::vector<OpEntry> table = {
      // elementwise, one input
      UNARY("Abs", at::abs(x)), UNARY("Acos", at::acos(x)), UNARY("Acosh", at::acosh(x)), UNARY("Asin", at::asin(x)),
      UNARY("Asinh", at::asinh(x)), UNARY("Atan", at::atan(x)), UNARY("Atanh", at::atanh(x)), UNARY("Ceil", at::ceil(x)),
      UNARY("Cos", at::cos(x)), UNARY("Cosh", at::cosh(x)), UNARY("Elu", at::elu(x)), UNARY("Erf", at::erf(x)),
      UNARY("Exp", at::exp(x)), UNARY("Expm1", at::expm1(x)), UNARY("Floor", at::floor(x)),
      UNARY("IsFinite", at::isfinite(x)), UNARY("IsInf", at::isinf(x)), UNARY("IsNan", at::isnan(x)),
      UNARY("Log", at::log(x)), UNARY("Log1p", at::log1p(x)), UNARY("LogicalNot", at::logical_not(x)),
      UNARY("Neg", at::neg(x)), UNARY("Reciprocal", at::reciprocal(x)), UNARY("Relu", at::relu(x)),
      UNARY("Relu6", at::clamp(x, 0, 6)), UNARY("Round", at::round(x)), UNARY("Rsqrt", at::rsqrt(x)),
      UNARY("Selu", at::selu(x)), UNARY("Sigmoid", at::sigmoid(x)), UNARY("Sign", at::sign(x)), UNARY("Sin", at::sin(x)),
      UNARY("Sinh", at::sinh(x)), UNARY("Softplus", at::softplus(x)), UNARY("Sqrt", at::sqrt(x)),
      UNARY("Square", at::square(x)), UNARY("Tan", at::tan(x)), UNARY("Tanh", at::tanh(x)),
      UNARY("ZerosLike", at::zeros_like(x)), UNARY("OnesLike", at::ones_like(x)),
      UNARY("Step", step(x, c.f[0])), UNARY("LeakyRelu", at::where(x < 0, x * c.f[0], x)),
      UNARY("ClipByValue", at::clamp(x, c.f[0], c.f[1])), UNARY("Cast", cast_to(x, scalar_type(c.i[0]))),
      // elementwise, two inputs (numpy broadcasting, as tfjs)
      BINARY("Add", at::add(a, b)), BINARY("Sub", at::sub(a, b)), BINARY("Multiply", at::mul(a, b)),
      BINARY("RealDiv", real_div(a, b)), BINARY("FloorDiv", at::div(a, b, "floor").to(at::kInt))  /* tfjs: always int32 */,
      BINARY("Maximum", at::maximum(a, b)), BINARY("Minimum", at::minimum(a, b)), BINARY("Pow", at::pow(a, b)),
      BINARY("SquaredDifference", at::square(at::sub(a, b))), BINARY("Mod", at::remainder(a, b)),
      BINARY("Atan2", at::atan2(a, b)), BINARY("Equal", at::eq(a, b)), BINARY("NotEqual", at::ne(a, b)),
      BINARY("Greater", at::gt(a, b)), BINARY("GreaterEqual", at::ge(a, b)), BINARY("Less", at::lt(a, b)),
      BINARY("LessEqual", at::le(a, b)), BINARY("LogicalAnd", at::logical_and(a, b)),
      BINARY("LogicalOr", at::logical_or(a, b)),
      // where() wants its operands on one device: these move CPU scalars like non-elementwise kernels
      OP("Prelu", [](Call& c) { c.out.push_back(at::where(c.in[0] < 0, c.in[0] * c.in[1], c.in[0])); }),
      OP("EluGrad", [](Call& c) { c.out.push_back(at::where(c.in[1] < 0, c.in[0] * (c.in[1] + 1), c.in[0])); }),
      {"AddN", [](Call& c) {
        at::Tensor s = c.in[0];
        for (size_t k = 1; k < c.in.size(); ++k) s = s + c.in[k];
        c.out.push_back(s);
      }, true},
      OP("Select", select_op),
      // reductions
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
      // layout (views where ATen can)
      OP("Reshape", [](Call& c) { c.out.push_back(c.in[0].reshape(ivec(c.i + 1, c.i[0]))); }),
      OP("Transpose", [](Call& c) { c.out.push_back(c.in[0].permute(ivec(c.i + 1, c.i[0]))); }),
      OP("Slice", [](Call& c) {  // ints: rank, begin..., size...
        at::Tensor x = c.in[0];
        int64_t r = c.i[0];
        for (int64_t d = 0; d < r; ++d) x = x.narrow(d, c.i[1 + d], c.i[1 + r + d]);
        c.out.push_back(x);
      }),
      OP("StridedSlice", strided_slice),
      OP("Concat", [](Call& c) { c.out.push_back(at::cat(c.in, c.i[0])); }),
      OP("Pack", [](Call& c) { c.out.push_back(at::stack(c.in, c.i[0])); }),
      OP("Unpack", [](Call& c) { c.out = at::unbind(c.in[0], c.i[0]); }),
      OP("SplitV", [](Call& c) { c.out = at::split_with_sizes(c.in[0], ivec(c.i + 2, c.i[1]), c.i[0]); }),
      OP("Tile", [](Call& c) { c.out.push_back(c.in[0].repeat(ivec(c.i + 1, c.i[0]))); }),
      OP("Reverse", [](Call& c) { c.out.push_back(c.in[0].flip(ivec(c.i + 1, c.i[0]))); }),
      OP("PadV2", [](Call& c) {  // ints: rank, (before, after) per dim; f: value
        int64_t r = c.i[0];
        std::vector<int64_t> pad;
        for (int64_t d = r - 1; d >= 0; --d) {
          pad.push_back(c.i[1 + 2 * d]);
          pad.push_back(c.i[2 + 2 * d]);
        }
        c.out.push_back(at::constant_pad_nd(c.in[0], pad, c.f[0]));
      }),
      OP("MirrorPad", mirror_pad),
      OP("GatherV2", gather), OP("GatherNd", gather_nd), OP("ScatterNd", scatter_nd),
      OP("UnsortedSegmentSum", segment_sum), OP("OneHot", one_hot),
      OP("Fill", [](Call& c) { c.out.push_back(at::full(ivec(c.i + 2, c.i[1]), c.f[0], c.opts(scalar_type(c.i[0])))); }),
      OP("Range", [](Call& c) {  // ints: dtype, n; f: start, step
        at::Tensor r = at::arange(c.i[1], c.opts(at::kDouble)) * c.f[1] + c.f[0];
        c.out.push_back(r.to(scalar_type(c.i[0])));
      }),
      // neural network
      OP("Conv2D", conv2d), OP("Conv2DBackpropInput", conv2d_input), OP("Conv2DBackpropFilter", conv2d_filter),
      OP("MaxPool", max_pool), OP("MaxPoolGrad", max_pool_grad), OP("AvgPool", avg_pool),
      OP("AvgPoolGrad", avg_pool_grad), OP("BatchMatMul", batch_mat_mul), OP("FusedBatchNorm", batch_norm),
      // sdfn's own kernels (src/backend/batch-norm.ts)
      OP("SdfnBatchNormTrain", batch_norm_train), OP("SdfnBatchNormTrainGrad", batch_norm_train_grad),
      OP("SdfnAdamStep", adam_step),
  };
  return table;
}

}  // namespace sdfn
