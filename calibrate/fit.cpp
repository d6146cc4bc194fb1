#include "calibrate/fit.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "kernels/input_error.hpp"

namespace bitscale {

AlphaBetaFit fit_alpha_beta(std::span<const double> bytes, std::span<const double> seconds) {
  const auto n = static_cast<Eigen::Index>(bytes.size());
  if (bytes.size() != seconds.size()) {
    throw InputError("fit", "points", std::to_string(bytes.size()), "sizes and times differ in count");
  }
  if (n < 2) throw InputError("fit", "points", std::to_string(n), "need at least two points");
  Eigen::MatrixXd a(n, 2);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double t = seconds[static_cast<std::size_t>(i)];
    const double b = bytes[static_cast<std::size_t>(i)];
    if (!(t > 0) || !std::isfinite(t) || !(b >= 0) || !std::isfinite(b)) {
      throw InputError("fit", "point", std::to_string(i), "sizes must be >= 0 and times > 0, finite");
    }
    // relative weighting: divide each equation by its measured time
    a(i, 0) = 1.0 / t;
    a(i, 1) = b / t;
    y(i) = 1.0;
  }
  const auto [lo, hi] = std::minmax_element(bytes.begin(), bytes.end());
  if (*lo == *hi) {
    throw InputError("fit", "points", std::to_string(n), "need at least two distinct sizes");
  }
  const Eigen::Vector2d x = a.colPivHouseholderQr().solve(y);
  if (!(x(1) > 0)) {
    throw InputError("fit", "slope", std::to_string(x(1)), "times do not grow with size: no bandwidth can be fitted");
  }
  AlphaBetaFit fit;
  fit.alpha_s = x(0);
  fit.bytes_per_s = 1.0 / x(1);
  double mean = 0;
  for (auto t : seconds) mean += t;
  mean /= static_cast<double>(n);
  double ss_res = 0, ss_tot = 0, rel2 = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double predicted = x(0) + x(1) * bytes[k];
    const double rel = (predicted - seconds[k]) / seconds[k];
    fit.relative_residuals.push_back(rel);
    ss_res += (predicted - seconds[k]) * (predicted - seconds[k]);
    ss_tot += (seconds[k] - mean) * (seconds[k] - mean);
    rel2 += rel * rel;
  }
  fit.r_squared = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  fit.relative_rms = std::sqrt(rel2 / static_cast<double>(n));
  return fit;
}

}  // namespace bitscale
