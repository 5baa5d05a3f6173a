// The im2col side of the im2col + GEMM route (cpp/drivers/conv-im2col.cpp): the
// patch matrix phi(x) of Xu's im2col (seed 002) is never stored whole. Its
// columns are the output pixels j = (n, p, q) of the whole batch, flattened; a
// tile of columns is packed straight from x into the GEMM's micro-panels
// (cpp/drivers/gemm.hpp layouts), and results go straight back to y or dx.
//
// Row t of phi(x) for group g is (c, r, s) with t = (c*R + r)*S + s, c local to
// the group: phi(x)[t, j] = x[n, g*Cg + c, p*sh + r*dh - top, q*sw + s*dw - left],
// zero where that lies in the padding. Padding is written as true zeros; it is
// never read from x.
#pragma once

#include <cstdint>
#include <vector>

#include "convbp/params.hpp"

namespace convbp {

// Columns [col, col + (q1 - q0)) of a tile are the pixels (n, p, q0..q1-1): one
// output row of one image (by_row) or, with p = 0, the flattened pixels
// pq = q0..q1-1 of one image (!by_row).
struct ColSeg {
  int64_t n, p, q0, q1, col;
};

// Splits columns [j0, j0 + len) of the flattened (n, p, q) index (PQ pixels per
// image, Q per row) into segments within one image, and one output row if
// by_row, and one panel of `panel` columns (counted from j0) if panel > 0.
void column_segments(int64_t j0, int64_t len, int64_t PQ, int64_t Q, bool by_row, int64_t panel,
                     std::vector<ColSeg>& out);

// The (N, Kt, PQ) tensor `base` seen as the matrix M[k, j] = base[n*img + k*PQ + pq]
// (img = Kt*PQ; base already offset to the first row wanted). These move M's
// tiles in and out of GEMM layouts; segs come from column_segments(!by_row).
//   pack_rows_b: rows 0..kc of the tile columns -> B panels (nr wide, tn columns,
//                zero-padded to whole panels); segs split at panels of nr.
//   pack_rows_a: A panels of M^T: mr rows k (0..m) x kc pixel columns -> a[k/mr][pl][k%mr].
//   unpack_rows: C (m x tn, ldc) -> M (overwrite), plus bias[k] if bias.
template <typename T>
void pack_rows_b(const T* base, int64_t img, int64_t PQ, int64_t kc, const std::vector<ColSeg>& segs, int64_t tn,
                 int nr, T* Bp);
template <typename T>
void pack_rows_a(const T* base, int64_t img, int64_t PQ, int64_t m, const std::vector<ColSeg>& segs, int64_t kc,
                 int mr, T* Ap);
template <typename T>
void unpack_rows(const T* C, int64_t ldc, int64_t m, const std::vector<ColSeg>& segs, const T* bias, T* base,
                 int64_t img, int64_t PQ);

// phi(x) for group g, rows t0..t0+kc, tile columns -> B panels (nr wide, tn
// columns zero-padded to whole panels). segs: column_segments(by_row, panel nr).
template <typename T>
void pack_im2col_b(const ConvParams& p, int64_t g, const T* x, int64_t t0, int64_t kc,
                   const std::vector<ColSeg>& segs, int64_t tn, int nr, T* Bp);

// phi(x)^T for group g: kc pixel rows (segs: column_segments(by_row, no panels)
// of the pixel block) x columns t0..t0+nt of phi's rows -> B panels (nr wide,
// zero-padded). For dw = dy phi(x)^T (Xu: dW_f = phi(X)^T dY_f, transposed).
template <typename T>
void pack_im2col_bt(const ConvParams& p, int64_t g, const T* x, int64_t t0, int64_t nt,
                    const std::vector<ColSeg>& segs, int64_t kc, int nr, T* Bp);

// col2im: dx += phi^T-scatter of the rows (c0..c1 local channels of group g,
// every r, s) x tile columns of C (row-major, ldc): each C[t, j] is added to the x
// position phi(x)[t, j] was read from; padding positions are dropped. segs:
// column_segments(by_row, no panels).
template <typename T>
void col2im_add(const ConvParams& p, int64_t g, int64_t c0, int64_t c1, const T* C, int64_t ldc,
                const std::vector<ColSeg>& segs, T* dx);

// True when phi(x) is x itself reshaped: 1x1 kernel, stride 1, no padding.
inline bool is_pointwise(const ConvParams& p) {
  return p.R == 1 && p.S == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 && p.pad_bottom == 0 &&
         p.pad_left == 0 && p.pad_right == 0;
}

}  // namespace convbp
