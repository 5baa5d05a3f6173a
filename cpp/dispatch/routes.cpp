#include "dispatch/routes.hpp"

#include "convbp/runtime.hpp"

#include <stdexcept>

namespace convbp {

const std::vector<Route>& routes() {
  // "auto" order: the first route that accepts runs. Fast routes go before naive.
  // direct: depthwise, small-group and small-reduction (stem) convolutions in auto,
  // per pass (its auto_declines says which), every convolution when asked for by
  // name. im2col: the rest.
  static const std::vector<Route> list = {make_direct_route(), make_im2col_route(), make_naive_route()};
  return list;
}

std::vector<std::string> route_names() {
  std::vector<std::string> names;
  for (const Route& r : routes()) names.push_back(r.name);
  return names;
}

const char* pass_name(Pass p) {
  switch (p) {
    case Pass::Forward: return "fwd";
    case Pass::BackwardInput: return "bwd_data";
    default: return "bwd_weight";
  }
}

const char* dtype_name(DType d) { return d == DType::F32 ? "float32" : "float64"; }

namespace {

std::string known_algos() {
  std::string s = "'auto'";
  for (const Route& r : routes()) s += std::string(", '") + r.name + "'";
  return s;
}

}  // namespace

// Walks the route list: returns the route that runs, filling `choice` (when given)
// with why.
const Route& select_route(const ConvParams& p, Pass pass, DType dtype, const std::string& algo,
                          RouteChoice* choice) {
  RouteChoice local;
  RouteChoice& c = choice ? *choice : local;
  c.isa = isa_name(active_isa());
  bool known = algo == "auto";
  for (const Route& r : routes()) {
    if (algo != "auto" && algo != r.name) continue;
    known = true;
    std::string why = r.refuses(p, pass, dtype);
    if (why.empty() && algo == "auto" && r.auto_declines) why = r.auto_declines(p, pass, dtype);
    if (why.empty() && !choice) return r;  // a call, not explain: no text to build (0.2 us of a call)
    if (why.empty()) {
      c.route = r.name;
      c.reason = algo == "auto" ? std::string("first route in the auto order that accepts ") + pass_name(pass)
                                : std::string("requested by algo='") + algo + "'";
      const std::string d = r.describe ? r.describe(p, pass, dtype) : std::string();
      if (!d.empty()) c.reason += "; " + d;
      return r;
    }
    c.refused.emplace_back(r.name, why);
  }
  if (!known) throw std::invalid_argument("algo='" + algo + "' is not one of " + known_algos());
  throw std::invalid_argument("algo='" + algo + "' cannot run this convolution (" + pass_name(pass) +
                              "): " + (c.refused.empty() ? "" : c.refused.back().second));
}

RouteChoice explain(const ConvParams& p, Pass pass, DType dtype, const std::string& algo) {
  p.validate();
  RouteChoice c;
  select_route(p, pass, dtype, algo, &c);
  return c;
}

}  // namespace convbp
