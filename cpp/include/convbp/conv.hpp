// The pass entry points of convbp. Each validates its ConvParams, walks the route
// list (cpp/dispatch/routes.cpp) and writes into caller-owned, C-contiguous
// buffers: x (N,C,H,W), w (K,C/g,R,S), y and dy (N,K,P,Q), bias and db (K).
// Thread count: convbp::num_threads(). Same call, same thread count: bit-identical.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "convbp/params.hpp"

namespace convbp {

enum class Pass { Forward, BackwardInput, BackwardWeight };
enum class DType { F32, F64 };

const char* pass_name(Pass p);   // "fwd", "bwd_data", "bwd_weight"
const char* dtype_name(DType d); // "float32", "float64"

// y = conv(x, w) + bias (bias may be null).
template <typename T>
void conv_forward(const ConvParams& p, const T* x, const T* w, const T* bias, T* y,
                  const std::string& algo = "auto");
// dx = dL/dx given dy = dL/dy (overwrites dx).
template <typename T>
void conv_backward_input(const ConvParams& p, const T* dy, const T* w, T* dx,
                         const std::string& algo = "auto");
// dw = dL/dw given x and dy (overwrites dw).
template <typename T>
void conv_backward_weight(const ConvParams& p, const T* x, const T* dy, T* dw,
                          const std::string& algo = "auto");
// db[k] = sum over n, p, q of dy[n, k, p, q]; dy is (N, K, PQ) (overwrites db).
template <typename T>
void conv_backward_bias(int64_t N, int64_t K, int64_t PQ, const T* dy, T* db);

// Which route and ISA a call would use, and why the routes before it refused.
struct RouteChoice {
  std::string route;
  std::string isa;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> refused;  // (route, why not)
};
RouteChoice explain(const ConvParams& p, Pass pass, DType dtype, const std::string& algo = "auto");

// Names `algo` accepts besides "auto", in the order "auto" tries them.
std::vector<std::string> route_names();

}  // namespace convbp
