// Shape and indexing kernels (src/backend/torch/kernels/layout.ts): reshape, transpose and slice
// are ATen views; gathers and scatters use index_select/index_add on flattened indices.
#include "../ops.h"

namespace sdfn {
namespace {

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

}  // namespace

std::vector<OpEntry> layout_ops() {
  return {
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
  };
}

}  // namespace sdfn
