// Convolutions, pooling, matrix products, inference batch norm and bilinear resizing
// (src/backend/torch/kernels/nn.ts).
// Inputs are tfjs layouts (NHWC images, [kh, kw, in, out] filters), viewed as channels-last NCHW.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "../ops.h"
#include "../precision.h"

namespace sdfn {
namespace {

// tfjs filter [kh, kw, in, out] (depthwise: [kh, kw, C, M]) as an ATen weight [out, in/groups, kh, kw].
at::Tensor oihw(const at::Tensor& w, bool depthwise, at::MemoryFormat format = kCL) {
  if (!depthwise) return w.permute({3, 2, 0, 1}).contiguous(format);
  return w.reshape({w.size(0), w.size(1), -1}).permute({2, 0, 1}).unsqueeze(1).contiguous(kCL);
}

// Window geometry written by the JS side: strides, dilations, pads top/bottom/left/right.
struct Geom {
  std::vector<int64_t> stride, dilation;
  int64_t t, b, l, r;
  bool symmetric() const { return t == b && l == r; }
  std::vector<int64_t> padding() const { return symmetric() ? std::vector<int64_t>{t, l} : std::vector<int64_t>{0, 0}; }
  at::Tensor pad(const at::Tensor& xv, double value = 0, at::MemoryFormat format = kCL) const {
    if (symmetric()) return xv;
    return at::constant_pad_nd(xv, {l, r, t, b}, value).contiguous(format);
  }
  at::Tensor unpad(const at::Tensor& g, int64_t h, int64_t w) const {
    return symmetric() ? g : g.narrow(2, t, h).narrow(3, l, w);
  }
};
// The 8 window ints of kernel K (layouts.json: strideH strideW dilationH dilationW top bottom left right).
template <typename K>
Geom geom(const int32_t* i) {
  return Geom{{i[K::i_strideH], i[K::i_strideW]}, {i[K::i_dilationH], i[K::i_dilationW]}, i[K::i_top], i[K::i_bottom], i[K::i_left], i[K::i_right]};
}

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

// ---- convolution
// The memory format of a forward convolution's operands. libtorch 1.13's channels-last CPU
// convolution takes ~1.4x its NCHW one over ResNet-50's shapes at 64 px, even counting the copies
// in and out of tfjs's NHWC (python3-torch, 1 thread: 526 against 375 ms over 17 layer shapes),
// but a stem with a few input channels is faster channels-last. CUDA and depthwise keep channels-last.
// Both formats give the same result to float32 rounding (issue #28: not a wrong gradient, a ReLU
// knife edge; test/backend/layout-chains.test.ts checks both against PyTorch's float64 autograd).
at::MemoryFormat forward_format(const at::Tensor& x, bool depthwise) {
  if (depthwise || x.is_cuda()) return kCL;
  switch (conv_format_setting()) {
    case ConvFormat::Nchw: return at::MemoryFormat::Contiguous;
    case ConvFormat::ChannelsLast: return kCL;
    case ConvFormat::Auto: break;
  }
  return x.size(3) <= 4 ? kCL : at::MemoryFormat::Contiguous;
}

void conv2d(Call& c) {
  using K = arg::Conv2D;
  Geom g = geom<K>(c.i);
  bool depthwise = c.i[K::i_depthwise];
  at::Tensor x = c.dev(K::in_x), w = c.dev(K::in_filter);
  at::MemoryFormat format = forward_format(x, depthwise);
  at::Tensor xv = g.pad(x.permute({0, 3, 1, 2}).contiguous(format), 0, format);
  at::Tensor bias;
  const at::Tensor& b = c.in[K::in_bias];
  bool bias_in_conv = b.defined() && b.dim() == 1 && b.size(0) == w.size(3) * (depthwise ? w.size(2) : 1);
  if (bias_in_conv) bias = c.dev(K::in_bias);
  int64_t groups = depthwise ? x.size(3) : 1;
  // lowp: bf16 operands under training.precision bf16 (precision.h); the result returns to fp32 at emit.
  at::Tensor y = nhwc(at::conv2d(lowp(xv), lowp(oihw(w, depthwise, format)), lowp(bias), g.stride, g.padding(), g.dilation, groups));
  if (b.defined() && !bias_in_conv) y = y + c.dev(K::in_bias);
  at::Tensor prelu = c.in[K::in_prelu].defined() ? c.dev(K::in_prelu) : at::Tensor();
  c.out.push_back(activate(y, c.i[K::i_activation], prelu, c.f[K::f_leakyreluAlpha]));
}

void conv2d_input(Call& c) {  // n h w c: the input shape
  using K = arg::Conv2DBackpropInput;
  Geom g = geom<K>(c.i);
  bool depthwise = c.i[K::i_depthwise];
  int64_t n = c.i[K::i_n], h = c.i[K::i_h], w = c.i[K::i_w], ch = c.i[K::i_c];
  at::Tensor go = lowp(nchw(c.dev(K::in_dy)));
  at::Tensor weight = lowp(oihw(c.dev(K::in_filter), depthwise));
  int64_t hp = g.symmetric() ? h : h + g.t + g.b, wp = g.symmetric() ? w : w + g.l + g.r;
  at::Tensor input = at::empty({n, ch, hp, wp}, go.options().memory_format(kCL));
  auto grads = at::convolution_backward(go, input, weight, c10::nullopt, g.stride, g.padding(), g.dilation, false, {0, 0},
                                        depthwise ? ch : 1, {true, false, false});
  c.out.push_back(nhwc(g.unpad(std::get<0>(grads), h, w)));
}

// libtorch 1.13's CPU weight gradient of a channels-last 1x1 convolution with stride > 1
// corrupts the heap (it crashed processes later, at free). A 1x1 window sees only every
// stride-th pixel, so the gradient is that of a stride-1 convolution over those pixels.
void pointwise_stride_one(const Geom& g, const at::Tensor& go, at::Tensor& xv, std::vector<int64_t>& stride,
                          std::vector<int64_t>& padding) {
  if (g.symmetric() && (g.t || g.l)) xv = at::constant_pad_nd(xv, {g.l, g.r, g.t, g.b});  // make implicit padding explicit
  int64_t sh = g.stride[0], sw = g.stride[1];
  xv = xv.slice(2, 0, (go.size(2) - 1) * sh + 1, sh).slice(3, 0, (go.size(3) - 1) * sw + 1, sw).contiguous(kCL);
  stride = {1, 1};
  padding = {0, 0};
}

void conv2d_filter(Call& c) {  // kh kw ci co: the filter shape (depthwise: kh, kw, C, M)
  using K = arg::Conv2DBackpropFilter;
  Geom g = geom<K>(c.i);
  bool depthwise = c.i[K::i_depthwise];
  int64_t kh = c.i[K::i_kh], kw = c.i[K::i_kw], ci = c.i[K::i_ci], co = c.i[K::i_co];
  at::Tensor xv = lowp(g.pad(nchw(c.dev(K::in_x))));
  at::Tensor go = lowp(nchw(c.dev(K::in_dy)));
  at::Tensor weight = depthwise ? at::empty({ci * co, 1, kh, kw}, go.options().memory_format(kCL))
                                : at::empty({co, ci, kh, kw}, go.options().memory_format(kCL));
  std::vector<int64_t> stride = g.stride, padding = g.padding();
  if (kh == 1 && kw == 1 && (stride[0] > 1 || stride[1] > 1)) pointwise_stride_one(g, go, xv, stride, padding);
  auto grads = at::convolution_backward(go, xv, weight, c10::nullopt, stride, padding, g.dilation, false, {0, 0},
                                        depthwise ? ci : 1, {false, true, false});
  at::Tensor gw = std::get<1>(grads);
  if (depthwise) c.out.push_back(gw.squeeze(1).permute({1, 2, 0}).reshape({kh, kw, ci, co}).contiguous());
  else c.out.push_back(gw.permute({2, 3, 1, 0}));  // a strided view (no copy): later kernels read strides
}

// ---- pooling (dilation 1)
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
template <typename K>
Pool pool(const int32_t* i) {
  return Pool{{i[K::i_kh], i[K::i_kw]}, geom<K>(i)};
}

void max_pool(Call& c) {
  Pool p = pool<arg::MaxPool>(c.i);
  at::Tensor xv = p.pad(nchw(c.dev(arg::MaxPool::in_x)), -std::numeric_limits<double>::infinity());
  c.out.push_back(nhwc(at::max_pool2d(xv, p.kernel, p.g.stride, p.padding(), {1, 1}, false)));
}

void max_pool_grad(Call& c) {
  using K = arg::MaxPoolGrad;
  Pool p = pool<K>(c.i);
  at::Tensor x = c.dev(K::in_x);
  at::Tensor xv = p.pad(nchw(x), -std::numeric_limits<double>::infinity());
  auto yi = at::max_pool2d_with_indices(xv, p.kernel, p.g.stride, p.padding(), {1, 1}, false);
  at::Tensor gi = at::max_pool2d_with_indices_backward(nchw(c.dev(K::in_dy)), xv, p.kernel, p.g.stride, p.padding(), {1, 1}, false,
                                                       std::get<1>(yi));
  c.out.push_back(nhwc(p.unpad(gi, x.size(1), x.size(2))));
}

void avg_pool(Call& c) {
  Pool p = pool<arg::AvgPool>(c.i);
  at::Tensor x = c.dev(arg::AvgPool::in_x);
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
void avg_pool_grad(Call& c) {
  using K = arg::AvgPoolGrad;
  Pool p = pool<K>(c.i);
  at::Tensor x = c.dev(K::in_x);
  at::Tensor go = nchw(c.dev(K::in_dy));
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
void batch_mat_mul(Call& c) {
  using K = arg::BatchMatMul;
  at::Tensor a = blas_ready(lowp(c.dev(K::in_a))), b = blas_ready(lowp(c.dev(K::in_b)));
  at::Tensor y;
  bool ta = c.i[K::i_transposeA], tb = c.i[K::i_transposeB];
  if (!a.device().is_cpu() || (!ta && !tb)) {
    y = at::matmul(ta ? a.transpose(-1, -2) : a, tb ? b.transpose(-1, -2) : b);
  } else if (ta && tb) {
    y = at::matmul(b, a).transpose(-1, -2);  // aᵀ·bᵀ = (b·a)ᵀ
  } else if (ta) {
    y = at::matmul(b.transpose(-1, -2), a).transpose(-1, -2);  // aᵀ·b = (bᵀ·a)ᵀ
  } else {
    y = at::matmul(a, b.transpose(-1, -2).contiguous());  // a·bᵀ with bᵀ materialised
  }
  if (c.in[K::in_bias].defined()) y = y + c.dev(K::in_bias);
  at::Tensor prelu = c.in[K::in_prelu].defined() ? c.dev(K::in_prelu) : at::Tensor();
  c.out.push_back(activate(y, c.i[K::i_activation], prelu, c.f[K::f_leakyreluAlpha]));
}

void batch_norm(Call& c) {
  using K = arg::FusedBatchNorm;
  // y = x * inv + (offset - mean * inv), inv = scale / sqrt(var + eps): one pass over x.
  at::Tensor inv = at::rsqrt(c.in[K::in_variance] + c.f[K::f_epsilon]);
  if (c.in[K::in_scale].defined()) inv = inv * c.in[K::in_scale];
  at::Tensor shift = -c.in[K::in_mean] * inv;
  if (c.in[K::in_offset].defined()) shift = shift + c.in[K::in_offset];
  c.out.push_back(at::addcmul(shift, c.in[K::in_x], inv));
}

// ---- bilinear resize (tfjs's cpu kernels' arithmetic)
// One axis as an (out × in) interpolation matrix: output i samples the input at src = scale·i
// (scale·(i + ½) − ½ with half-pixel centres; align_corners: scale (in − 1)/(out − 1)), between
// floor(src) (at least 0) and ceil(src) (at most in − 1), weighted 1 − frac and frac.
at::Tensor resize_weights(int64_t in, int64_t out, bool align, bool half_pixel, at::Device device) {
  double scale = align && out > 1 ? (in - 1.0) / (out - 1.0) : double(in) / double(out);
  at::Tensor w = at::zeros({out, in}, at::kFloat);
  auto a = w.accessor<float, 2>();
  for (int64_t i = 0; i < out; ++i) {
    double src = half_pixel ? scale * (i + 0.5) - 0.5 : scale * i;
    int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(std::floor(src)));
    int64_t hi = std::min<int64_t>(in - 1, static_cast<int64_t>(std::ceil(src)));
    double frac = src - lo;
    a[i][lo] += static_cast<float>(1 - frac);
    a[i][hi] += static_cast<float>(frac);
  }
  return w.to(device);
}

// images (B, H, W, C) → (B, newHeight, newWidth, C): columns, then rows, as tfjs interpolates.
void resize_bilinear(Call& c) {
  using K = arg::ResizeBilinear;
  at::Tensor x = c.dev(K::in_images).to(at::kFloat);
  bool align = c.i[K::i_alignCorners], half = c.i[K::i_halfPixelCenters];
  at::Tensor cols = resize_weights(x.size(2), c.i[K::i_newWidth], align, half, c.device);
  at::Tensor rows = resize_weights(x.size(1), c.i[K::i_newHeight], align, half, c.device);
  c.out.push_back(at::einsum("ih,bhjc->bijc", {rows, at::einsum("jw,bhwc->bhjc", {cols, x})}).contiguous());
}

// dy (B, newHeight, newWidth, C) → d images (B, H, W, C): the transposed interpolation. As tfjs's
// cpu ResizeBilinearGrad, it samples at scale·i whatever halfPixelCenters was (the attribute is not read).
void resize_bilinear_grad(Call& c) {
  using K = arg::ResizeBilinearGrad;
  const at::Tensor& images = c.in[K::in_images];
  at::Tensor dy = c.dev(K::in_dy).to(at::kFloat);
  bool align = c.i[K::i_alignCorners];
  at::Tensor rows = resize_weights(images.size(1), dy.size(1), align, false, c.device);
  at::Tensor cols = resize_weights(images.size(2), dy.size(2), align, false, c.device);
  c.out.push_back(at::einsum("jw,bhjc->bhwc", {cols, at::einsum("ih,bijc->bhjc", {rows, dy})}).contiguous());
}

}  // namespace

ConvFormat conv_format_setting() {
  static const std::string value = [] {
    const char* v = std::getenv("SDFN_TORCH_CONV_FORMAT");
    return std::string(v && *v ? v : "auto");
  }();
  if (value == "auto") return ConvFormat::Auto;
  if (value == "nchw") return ConvFormat::Nchw;
  if (value == "channels_last") return ConvFormat::ChannelsLast;
  throw std::runtime_error("SDFN_TORCH_CONV_FORMAT must be auto, nchw or channels_last, not '" + value + "'");
}

std::vector<OpEntry> nn_ops() {
  return {
      OP("Conv2D", conv2d), OP("Conv2DBackpropInput", conv2d_input), OP("Conv2DBackpropFilter", conv2d_filter),
      OP("MaxPool", max_pool), OP("MaxPoolGrad", max_pool_grad), OP("AvgPool", avg_pool),
      OP("AvgPoolGrad", avg_pool_grad), OP("BatchMatMul", batch_mat_mul), OP("FusedBatchNorm", batch_norm),
      OP("ResizeBilinear", resize_bilinear), OP("ResizeBilinearGrad", resize_bilinear_grad),
  };
}

}  // namespace sdfn
