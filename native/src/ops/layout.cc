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

void gather(Call& c) {
  using K = arg::GatherV2;
  at::Tensor x = c.dev(K::in_x), idx = as_long(c.dev(K::in_indices));
  int64_t axis = c.i[K::i_axis], bd = c.i[K::i_batchDims];
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

void gather_nd(Call& c) {  // indices [..., K]
  at::Tensor p = c.dev(arg::GatherNd::in_params), idx = c.dev(arg::GatherNd::in_indices);
  int64_t k = idx.size(-1);
  std::vector<int64_t> rest = tail(p, k);
  std::vector<int64_t> shape(idx.sizes().begin(), idx.sizes().end() - 1);
  shape.insert(shape.end(), rest.begin(), rest.end());
  std::vector<int64_t> flat_shape{-1};
  flat_shape.insert(flat_shape.end(), rest.begin(), rest.end());
  c.out.push_back(p.reshape(flat_shape).index_select(0, flat_index(p, idx, k).reshape({-1})).reshape(shape));
}

void scatter_nd(Call& c) {  // indices [..., K]
  using K = arg::ScatterNd;
  at::Tensor idx = c.dev(K::in_indices), upd = c.dev(K::in_updates);
  std::vector<int64_t> shape = ivec(c.i + K::i_shape, c.i[K::i_rank]);
  int64_t k = idx.size(-1);
  at::Tensor out = at::zeros(shape, upd.options());
  std::vector<int64_t> flat_shape{-1};
  for (size_t d = k; d < shape.size(); ++d) flat_shape.push_back(shape[d]);
  at::Tensor flat = out.view(flat_shape);
  flat.index_add_(0, flat_index(out, idx, k).reshape({-1}), upd.reshape(flat_shape));
  c.out.push_back(out);
}

void segment_sum(Call& c) {
  using K = arg::UnsortedSegmentSum;
  at::Tensor x = c.dev(K::in_x), ids = as_long(c.dev(K::in_segmentIds)).reshape({-1});
  std::vector<int64_t> rest = tail(x, c.in[K::in_segmentIds].dim());
  std::vector<int64_t> flat_shape{ids.size(0)}, shape{c.i[K::i_numSegments]};
  flat_shape.insert(flat_shape.end(), rest.begin(), rest.end());
  shape.insert(shape.end(), rest.begin(), rest.end());
  at::Tensor out = at::zeros(shape, x.options());
  out.index_add_(0, ids, x.reshape(flat_shape));
  c.out.push_back(out);
}

// ---- layout
void strided_slice(Call& c) {  // beginStrideSize: (begin, stride, size) per dim
  using K = arg::StridedSlice;
  at::Tensor x = c.in[K::in_x];
  int64_t r = c.i[K::i_rank];
  const int32_t* bss = c.i + K::i_beginStrideSize;
  for (int64_t d = 0; d < r; ++d) {
    int64_t b = bss[3 * d], s = bss[3 * d + 1], n = bss[3 * d + 2];
    if (n == 0) {
      x = x.narrow(d, 0, 0);
    } else if (s > 0) {
      x = x.slice(d, b, b + (n - 1) * s + 1, s);
    } else {
      x = x.index_select(d, at::arange(b, b + n * s, s, at::TensorOptions().dtype(at::kLong).device(x.device())));
    }
  }
  const int32_t* fin = bss + 3 * r;  // finalRank, finalShape
  c.out.push_back(x.reshape(ivec(fin + 1, fin[0])));
}

void mirror_pad(Call& c) {  // symmetric: 0 reflect, 1 symmetric
  using K = arg::MirrorPad;
  at::Tensor x = c.dev(K::in_x);
  int64_t r = c.i[K::i_rank];
  const int32_t* pads = c.i + K::i_beforeAfter;
  bool symmetric = pads[2 * r];
  for (int64_t d = 0; d < r; ++d) {
    int64_t before = pads[2 * d], after = pads[2 * d + 1], n = x.size(d);
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

void one_hot(Call& c) {
  using K = arg::OneHot;
  at::Tensor idx = c.dev(K::in_indices);
  at::Tensor hit = idx.unsqueeze(-1) == at::arange(c.i[K::i_depth], c.opts(at::kInt));
  at::ScalarType type = scalar_type(c.i[K::i_dtype]);
  at::Tensor on = at::scalar_tensor(c.f[K::f_on], c.opts(type)), off = at::scalar_tensor(c.f[K::f_off], c.opts(type));
  c.out.push_back(at::where(hit, on, off));
}

}  // namespace

std::vector<OpEntry> layout_ops() {
  return {
      OP("Reshape", [](Call& c) { c.out.push_back(c.in[arg::Reshape::in_x].reshape(ivec(c.i + arg::Reshape::i_shape, c.i[arg::Reshape::i_rank]))); }),
      OP("Transpose", [](Call& c) { c.out.push_back(c.in[arg::Transpose::in_x].permute(ivec(c.i + arg::Transpose::i_perm, c.i[arg::Transpose::i_rank]))); }),
      OP("Slice", [](Call& c) {
        using K = arg::Slice;
        at::Tensor x = c.in[K::in_x];
        int64_t r = c.i[K::i_rank];
        const int32_t* begin = c.i + K::i_begin;  // then size[rank]
        for (int64_t d = 0; d < r; ++d) x = x.narrow(d, begin[d], begin[r + d]);
        c.out.push_back(x);
      }),
      OP("StridedSlice", strided_slice),
      OP("Concat", [](Call& c) { c.out.push_back(at::cat(c.in, c.i[arg::Concat::i_axis])); }),
      OP("Pack", [](Call& c) { c.out.push_back(at::stack(c.in, c.i[arg::Pack::i_axis])); }),
      OP("Unpack", [](Call& c) { c.out = at::unbind(c.in[arg::Unpack::in_value], c.i[arg::Unpack::i_axis]); }),
      OP("SplitV", [](Call& c) {
        using K = arg::SplitV;
        c.out = at::split_with_sizes(c.in[K::in_x], ivec(c.i + K::i_sizes, c.i[K::i_n]), c.i[K::i_axis]);
      }),
      OP("Tile", [](Call& c) { c.out.push_back(c.in[arg::Tile::in_x].repeat(ivec(c.i + arg::Tile::i_reps, c.i[arg::Tile::i_rank]))); }),
      OP("Reverse", [](Call& c) { c.out.push_back(c.in[arg::Reverse::in_x].flip(ivec(c.i + arg::Reverse::i_dims, c.i[arg::Reverse::i_n]))); }),
      OP("PadV2", [](Call& c) {
        using K = arg::PadV2;
        int64_t r = c.i[K::i_rank];
        const int32_t* before_after = c.i + K::i_beforeAfter;
        std::vector<int64_t> pad;
        for (int64_t d = r - 1; d >= 0; --d) {
          pad.push_back(before_after[2 * d]);
          pad.push_back(before_after[2 * d + 1]);
        }
        c.out.push_back(at::constant_pad_nd(c.in[K::in_x], pad, c.f[K::f_value]));
      }),
      OP("MirrorPad", mirror_pad),
      OP("GatherV2", gather), OP("GatherNd", gather_nd), OP("ScatterNd", scatter_nd),
      OP("UnsortedSegmentSum", segment_sum), OP("OneHot", one_hot),
      OP("Fill", [](Call& c) {
        using K = arg::Fill;
        c.out.push_back(at::full(ivec(c.i + K::i_shape, c.i[K::i_rank]), c.f[K::f_value], c.opts(scalar_type(c.i[K::i_dtype]))));
      }),
      OP("Range", [](Call& c) {
        using K = arg::Range;
        at::Tensor r = at::arange(c.i[K::i_n], c.opts(at::kDouble)) * c.f[K::f_step] + c.f[K::f_start];
        c.out.push_back(r.to(scalar_type(c.i[K::i_dtype])));
      }),
  };
}

}  // namespace sdfn
