// A multilayer perceptron with user-given widths: Linear(w[i], w[i+1]) with bias, ReLU between layers.
// Parameters: sum over i of w[i]*w[i+1] + w[i+1].
#include <fmt/format.h>

#include "kernels/input_error.hpp"
#include "model/workload.hpp"

namespace bitscale {

Workload make_mlp(std::span<const std::int64_t> widths) {
  if (widths.size() < 2) {
    throw InputError("", "--workload", "mlp", "an MLP needs at least two widths, e.g. mlp:784,1024,10");
  }
  Workload w;
  std::string spec;
  for (auto x : widths) spec += (spec.empty() ? "" : ",") + std::to_string(x);
  w.name = "mlp:" + spec;
  w.description = "multilayer perceptron " + spec + " (ReLU)";
  w.source = "user-given widths";
  w.sample = fmt::format("vector of {} values", widths.front());
  w.default_batch = 128;
  w.default_optimizer = Optimizer::momentum;
  NetBuilder b(w);
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) b.linear(fmt::format("fc{}", i + 1), widths[i], widths[i + 1]);
  return w;
}

}  // namespace bitscale
