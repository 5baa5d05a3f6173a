// The ordered list of routes (oneDNN's idea). Each route says whether it accepts a
// convolution and, if not, why; "auto" takes the first that accepts. The naive
// route accepts everything and is always last.
#pragma once

#include <string>
#include <vector>

#include "convbp/conv.hpp"

namespace convbp {

template <typename T>
struct PassFns {
  void (*forward)(const ConvParams&, const T* x, const T* w, const T* bias, T* y);
  void (*backward_input)(const ConvParams&, const T* dy, const T* w, T* dx);
  void (*backward_weight)(const ConvParams&, const T* x, const T* dy, T* dw);
};

struct Route {
  const char* name;
  // Empty when the route runs (params, pass, dtype) on this machine; else why not.
  std::string (*refuses)(const ConvParams&, Pass, DType);
  PassFns<float> f32;
  PassFns<double> f64;
  // Optional, "auto" only: empty when auto may pick this route for the call, else
  // why auto passes it by although it could run it (an explicit algo=<name> still
  // runs it). Lets a fast route take in auto only the shapes it is known to win.
  std::string (*auto_declines)(const ConvParams&, Pass, DType) = nullptr;
  // Optional: which of the route's kernels the call would run, for explain().
  std::string (*describe)(const ConvParams&, Pass, DType) = nullptr;
};

// One factory per route, defined beside its driver.
Route make_direct_route();  // cpp/drivers/conv-direct.cpp
Route make_im2col_route();  // cpp/drivers/conv-im2col.cpp
Route make_naive_route();   // cpp/drivers/conv-naive.cpp

const std::vector<Route>& routes();

// The route that runs (params, pass, dtype) under `algo` ("auto" or a route name);
// fills `choice` (may be null) with the reason and the refusals before it. Throws
// std::invalid_argument for an unknown algo or one that refuses the call.
const Route& select_route(const ConvParams& p, Pass pass, DType dtype, const std::string& algo,
                          RouteChoice* choice);

}  // namespace convbp
