// Fitting the alpha-beta model T(n) = alpha + n / B to measured (size, time) points by least squares with
// Eigen, reporting its own quality (R^2, relative RMS and the relative residual of every point) as
// google/benchmark's complexity fit does. Robust and piecewise fits come with calibration (issue 4).
#pragma once
#include <span>
#include <vector>

namespace bitscale {

struct AlphaBetaFit {
  double alpha_s = 0;          // intercept
  double bytes_per_s = 0;      // 1 / slope
  double r_squared = 0;
  double relative_rms = 0;     // sqrt(mean(((predicted - measured) / measured)^2))
  std::vector<double> relative_residuals;
  double predict_seconds(double bytes) const { return alpha_s + bytes / bytes_per_s; }
};

// Weighted so every point counts by its relative error (times span decades). Needs >= 2 distinct sizes and
// positive times; throws InputError otherwise.
AlphaBetaFit fit_alpha_beta(std::span<const double> bytes, std::span<const double> seconds);

}  // namespace bitscale
