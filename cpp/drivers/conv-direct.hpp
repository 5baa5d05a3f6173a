// The direct route's passes with an explicit kernel-table row, so tests can run
// every ISA the CPU supports in one process (the route itself uses kernel_table()).
#pragma once

#include "convbp/conv.hpp"
#include "convbp/params.hpp"
#include "dispatch/kernel-table.hpp"

namespace convbp::direct {

template <typename T>
void forward(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void backward_weight(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw);

// Backward-weight by the plane-dots kernel (drivers/direct-depthwise-weight.cpp),
// for the convolutions plane_dots_fits accepts (depthwise, small multiplier).
bool plane_dots_fits(const ConvParams& p);
template <typename T>
void backward_weight_planes(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw);

// Forward and backward-input by the plane-rows kernel
// (drivers/direct-depthwise-rows.cpp), for depthwise convolutions with multiplier 1.
bool plane_rows_fits(const ConvParams& p);
// Whether the plane kernels' flat path can take this geometry: stride 1 with the
// output as wide as the input (same padding), on rows narrower than `lanes`.
bool plane_flat(const ConvParams& p, int64_t lanes);
template <typename T>
void forward_planes(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y);

// The forward pass of depthwise convolutions (multiplier 1) with column stride 2 and
// 3 kernel columns of dilation 1, by the plane stride-2 kernel (AVX-512).
bool plane_s2_fits(const ConvParams& p, const KernelTable& kt, bool f64);
// Whether the kernel takes two output rows a vector (2Q + 1 <= lanes); those layers'
// forward pass runs it rather than the phase route (forward_phases_first).
bool plane_s2_pairs(const ConvParams& p, bool f64);
template <typename T>
void forward_planes_s2(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input_planes(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx);

// Forward and backward-weight of strided depthwise convolutions (multiplier 1) by
// the plane kernels after a split of the input into stride phases
// (drivers/direct-depthwise-phases.cpp): AVX-512, planes at most `lanes` wide.
bool phases_fits(const ConvParams& p, Isa isa, int lanes);
// The forward pass takes the phase route where it fits, except where the plane
// stride-2 kernel takes two output rows a vector (mobilenet.dw12s2: 0.119 against
// 0.152 ms, drivers/direct-depthwise-rows.cpp).
bool forward_phases_first(const ConvParams& p, const KernelTable& kt, bool f64);
template <typename T>
void forward_phases(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_weight_phases(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw);

// Depthwise convolutions (multiplier 1) by the plane-expand kernels
// (drivers/direct-depthwise-expand.cpp, AVX-512): backward-input (strided, or stride 1
// over 3 kernel rows), the stride-1 forward pass in backward-input form, and
// backward-weight; expand_fits holds the measured rule of each pass.
bool expand_fits(const ConvParams& p, const KernelTable& kt, bool f64, Pass pass);
template <typename T>
void forward_expand(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input_expand(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void backward_weight_expand(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw);

// All three passes by the channel-vector kernels (drivers/direct-depthwise-cvec.cpp),
// for depthwise convolutions with multiplier 1 on small planes.
bool cvec_fits(const ConvParams& p);
template <typename T>
void forward_cvec(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input_cvec(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void backward_weight_cvec(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw);

// Dense layers whose reduction C*R*S is at most this, over several taps (stems:
// VGG's, MobileNet's, wav2vec 2.0's first layer), run direct in bwd_weight (and,
// with conditions, in fwd; auto's rule in conv-direct.cpp).
constexpr int64_t kDenseMaxReduction = 32;

// All three passes by the broadcast kernels (drivers/direct-grouped-bcast.cpp), for
// grouped convolutions whose lane channels (output channels of a group; input
// channels in backward-input) fill at least half of `lanes`; and the backward-weight
// pass of such dense stems.
bool bcast_fits(const ConvParams& p, Pass pass, int lanes);
template <typename T>
void forward_bcast(const KernelTable& kt, const ConvParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void backward_input_bcast(const KernelTable& kt, const ConvParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void backward_weight_bcast(const KernelTable& kt, const ConvParams& p, const T* x, const T* dy, T* dw);

}  // namespace convbp::direct
