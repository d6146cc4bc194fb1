// Fitting the alpha-beta model T(n) = alpha + n / B to measured (size, time) points with Eigen, reporting its
// own quality (R^2, relative RMS and the relative residual of every point), as google/benchmark's complexity
// fit does.
//  - Every point is weighted by 1/time, so the fit minimizes relative error (times span decades).
//  - Robust: iteratively reweighted least squares with Huber weights (k = 1.345 robust standard deviations,
//    the scale from the median absolute deviation), so one outlier run does not move the line.
//  - Piecewise: where one line cannot fit the whole size range (a protocol switch: eager to rendezvous, LL to
//    Simple), the sizes are split into up to `max_regimes` contiguous regimes, each fitted robustly; the split
//    minimizing the robust relative error is found by dynamic programming over the sorted sizes, and the number
//    of regimes by leave-one-out cross-validation.
//  - alpha >= 0: a negative intercept is refitted as a pure bandwidth term.
#pragma once
#include <span>
#include <string>
#include <vector>

namespace bitscale {

// The median: the middle value, or the mean of the two middle values for an even count (as Python's
// statistics.median); NaN for none. The engines' "median over ranks" (at 2 ranks: their mean).
double median_value(std::vector<double> v);

struct AlphaBetaFit {
  double alpha_s = 0;          // intercept
  double bytes_per_s = 0;      // 1 / slope
  double r_squared = 0;
  double relative_rms = 0;     // sqrt(mean(((predicted - measured) / measured)^2))
  std::vector<double> relative_residuals;
  double predict_seconds(double bytes) const { return alpha_s + bytes / bytes_per_s; }
};

// Weighted least squares (no robust weights). Needs >= 2 distinct sizes and positive times; throws InputError.
AlphaBetaFit fit_alpha_beta(std::span<const double> bytes, std::span<const double> seconds);
// Huber-robust version of the same.
AlphaBetaFit fit_alpha_beta_robust(std::span<const double> bytes, std::span<const double> seconds);

struct Regime {
  double min_bytes = 0, max_bytes = 0;  // the measured sizes it covers (inclusive)
  double alpha_s = 0, bytes_per_s = 0;
};

struct PiecewiseFit {
  std::vector<Regime> regimes;  // by increasing size
  double r_squared = 0, relative_rms = 0, max_relative_error = 0;
  // the error to expect at sizes not measured: the largest error of cross-validation, leave-one-out (each point
  // predicted by a fit of all the others) and two-fold over alternate sizes (each half predicted by a fit of the
  // other); the smallest and largest sizes are not predicted (they would be extrapolations)
  double prediction_error = 0;
  std::vector<double> relative_residuals;  // in the order of the input points
  const Regime& regime_for(double bytes) const;
  double predict_seconds(double bytes) const;
};

// Up to max_regimes regimes, each with >= min_points points. How many is cross-validated: each interior size is
// predicted by a fit of all the others with r regimes, and the fewest regimes whose held-out relative RMS error
// is within 1.25x of the best r's (or under 1%) are taken. A line whose residuals change sign with size (a
// protocol or window change the sizes cross) thus gets its second regime even when its RMS is small, and noise
// that a second line would only chase does not. With too few points to hold any out: the fewest regimes whose
// relative RMS is within `target_relative_rms`, or the best with max_regimes.
PiecewiseFit fit_piecewise(std::span<const double> bytes, std::span<const double> seconds, int max_regimes = 4,
                           double target_relative_rms = 0.05, int min_points = 4);

// Two streams of work started together, each also timed alone: while both run (the first `overlap_s` seconds)
// one progresses at a fraction f of its own speed, then alone at full speed, so alone = f x overlap + (together -
// overlap). Returns f, clamped to [0.01, 1] (noise can put it outside); 1 when there was no overlap.
double fraction_while_overlapped(double alone_s, double together_s, double overlap_s);

}  // namespace bitscale
