#include "calibrate/fit.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

void check_points(std::span<const double> bytes, std::span<const double> seconds) {
  if (bytes.size() != seconds.size()) {
    throw InputError("fit", "points", std::to_string(bytes.size()), "sizes and times differ in count");
  }
  if (bytes.size() < 2) throw InputError("fit", "points", std::to_string(bytes.size()), "need at least two points");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (!(seconds[i] > 0) || !std::isfinite(seconds[i]) || !(bytes[i] >= 0) || !std::isfinite(bytes[i])) {
      throw InputError("fit", "point", std::to_string(i), "sizes must be >= 0 and times > 0, finite");
    }
  }
  const auto [lo, hi] = std::minmax_element(bytes.begin(), bytes.end());
  if (*lo == *hi) throw InputError("fit", "points", std::to_string(bytes.size()), "need at least two distinct sizes");
}

// Minimizes sum w_i ((alpha + beta n_i - t_i) / t_i)^2 with alpha >= 0; returns (alpha, beta).
Eigen::Vector2d weighted_fit(std::span<const double> bytes, std::span<const double> seconds,
                             const std::vector<double>& w) {
  const auto n = static_cast<Eigen::Index>(bytes.size());
  Eigen::MatrixXd a(n, 2);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    const double s = std::sqrt(w[k]) / seconds[k];
    a(i, 0) = s;
    a(i, 1) = bytes[k] * s;
    y(i) = seconds[k] * s;
  }
  Eigen::Vector2d x = a.colPivHouseholderQr().solve(y);
  if (x(0) < 0) {  // no negative latency: the best line through the origin
    const double num = a.col(1).dot(y), den = a.col(1).squaredNorm();
    x = Eigen::Vector2d(0.0, den > 0 ? num / den : 0.0);
  }
  return x;
}

AlphaBetaFit finish(std::span<const double> bytes, std::span<const double> seconds, const Eigen::Vector2d& x) {
  if (!(x(1) > 0)) {
    throw InputError("fit", "slope", std::to_string(x(1)), "times do not grow with size: no bandwidth can be fitted");
  }
  AlphaBetaFit fit;
  fit.alpha_s = x(0);
  fit.bytes_per_s = 1.0 / x(1);
  const double mean = std::accumulate(seconds.begin(), seconds.end(), 0.0) / static_cast<double>(seconds.size());
  double ss_res = 0, ss_tot = 0, rel2 = 0;
  for (std::size_t k = 0; k < bytes.size(); ++k) {
    const double predicted = x(0) + x(1) * bytes[k];
    const double rel = (predicted - seconds[k]) / seconds[k];
    fit.relative_residuals.push_back(rel);
    ss_res += (predicted - seconds[k]) * (predicted - seconds[k]);
    ss_tot += (seconds[k] - mean) * (seconds[k] - mean);
    rel2 += rel * rel;
  }
  fit.r_squared = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  fit.relative_rms = std::sqrt(rel2 / static_cast<double>(bytes.size()));
  return fit;
}

Eigen::Vector2d huber_fit(std::span<const double> bytes, std::span<const double> seconds) {
  constexpr double kHuber = 1.345;
  std::vector<double> w(bytes.size(), 1.0);
  Eigen::Vector2d x = weighted_fit(bytes, seconds, w);
  for (int iteration = 0; iteration < 50; ++iteration) {
    std::vector<double> r(bytes.size()), abs_r(bytes.size());
    for (std::size_t k = 0; k < bytes.size(); ++k) {
      r[k] = (x(0) + x(1) * bytes[k] - seconds[k]) / seconds[k];
      abs_r[k] = std::fabs(r[k]);
    }
    const double scale = std::max(median_value(abs_r) / 0.6745, 1e-6);
    for (std::size_t k = 0; k < bytes.size(); ++k) {
      w[k] = abs_r[k] <= kHuber * scale ? 1.0 : kHuber * scale / abs_r[k];
    }
    const Eigen::Vector2d next = weighted_fit(bytes, seconds, w);
    const bool done = (next - x).cwiseAbs().maxCoeff() <= 1e-12 * (x.cwiseAbs().maxCoeff() + 1e-30);
    x = next;
    if (done) break;
  }
  return x;
}

}  // namespace

double median_value(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

AlphaBetaFit fit_alpha_beta(std::span<const double> bytes, std::span<const double> seconds) {
  check_points(bytes, seconds);
  return finish(bytes, seconds, weighted_fit(bytes, seconds, std::vector<double>(bytes.size(), 1.0)));
}

AlphaBetaFit fit_alpha_beta_robust(std::span<const double> bytes, std::span<const double> seconds) {
  check_points(bytes, seconds);
  return finish(bytes, seconds, huber_fit(bytes, seconds));
}

const Regime& PiecewiseFit::regime_for(double bytes) const {
  for (const auto& r : regimes) {
    if (bytes <= r.max_bytes) return r;
  }
  return regimes.back();
}

double PiecewiseFit::predict_seconds(double bytes) const {
  auto line = [&](const Regime& r) { return r.alpha_s + bytes / r.bytes_per_s; };
  for (std::size_t i = 0; i < regimes.size(); ++i) {
    if (bytes <= regimes[i].max_bytes) {
      // between two regimes' measured sizes the library picks the faster protocol: the lower line
      if (i > 0 && bytes < regimes[i].min_bytes) return std::min(line(regimes[i - 1]), line(regimes[i]));
      return line(regimes[i]);
    }
  }
  return line(regimes.back());
}

namespace {

// The dynamic programme over one set of points, done once: the best split into every count of regimes.
struct Segmentation {
  std::vector<double> b, t;                            // the points, sorted by size
  std::vector<std::vector<double>> best;               // best[r][j]: least cost of points 0..j-1 in r regimes
  std::vector<std::vector<int>> from;                  // where the last of those r regimes starts
  std::vector<std::vector<Eigen::Vector2d>> line;      // line[i][j]: the robust line through points i..j-1
  int n = 0;

  bool fits(int regimes) const {
    return regimes >= 1 && regimes < static_cast<int>(best.size()) && std::isfinite(best[regimes][n]);
  }
  // the fewest regimes whose relative RMS is within the target, else the count with the least cost; -1: none
  int by_rms_target(double target) const {
    const int most = static_cast<int>(best.size()) - 1;
    for (int r = 1; r <= most; ++r) {
      if (fits(r) && std::sqrt(best[r][n] / n) <= target) return r;
    }
    for (int r = 1; r <= most; ++r) {
      if (!fits(r)) continue;
      int least = r;
      for (int q = r + 1; q <= most; ++q) {
        if (best[q][n] < best[least][n]) least = q;
      }
      return least;
    }
    return -1;
  }
  // the fit with `regimes` regimes (fits(regimes)), its quality over `bytes`/`seconds` (the caller's order)
  PiecewiseFit fit(int regimes, std::span<const double> bytes, std::span<const double> seconds) const {
    PiecewiseFit fit;
    for (int r = regimes, j = n; r > 0; --r) {
      const int i = from[r][j];
      const auto& x = line[i][j];
      fit.regimes.insert(fit.regimes.begin(), Regime{b[i], b[j - 1], x(0), 1.0 / x(1)});
      j = i;
    }
    const double mean = std::accumulate(seconds.begin(), seconds.end(), 0.0) / n;
    double ss_res = 0, ss_tot = 0, rel2 = 0;
    for (std::size_t k = 0; k < bytes.size(); ++k) {
      const double predicted = fit.predict_seconds(bytes[k]);
      const double rel = (predicted - seconds[k]) / seconds[k];
      fit.relative_residuals.push_back(rel);
      fit.max_relative_error = std::max(fit.max_relative_error, std::fabs(rel));
      ss_res += (predicted - seconds[k]) * (predicted - seconds[k]);
      ss_tot += (seconds[k] - mean) * (seconds[k] - mean);
      rel2 += rel * rel;
    }
    fit.r_squared = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
    fit.relative_rms = std::sqrt(rel2 / static_cast<double>(n));
    return fit;
  }
};

Segmentation segment(std::span<const double> bytes, std::span<const double> seconds, int max_regimes,
                     int min_points) {
  // sort the points by size (the caller's order is kept for the residuals)
  std::vector<std::size_t> order(bytes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return bytes[a] < bytes[b]; });
  Segmentation s;
  s.b.resize(bytes.size());
  s.t.resize(bytes.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    s.b[i] = bytes[order[i]];
    s.t[i] = seconds[order[i]];
  }
  const auto& b = s.b;
  const auto& t = s.t;
  const int n = s.n = static_cast<int>(b.size());
  // cost[i][j]: squared relative residuals of the robust line through sorted points i..j-1 (inf if unfittable)
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> cost(n + 1, std::vector<double>(n + 1, inf));
  s.line.assign(n + 1, std::vector<Eigen::Vector2d>(n + 1));
  for (int i = 0; i < n; ++i) {
    for (int j = i + std::max(min_points, 2); j <= n; ++j) {
      const std::span<const double> bs(b.data() + i, static_cast<std::size_t>(j - i));
      const std::span<const double> ts(t.data() + i, static_cast<std::size_t>(j - i));
      if (bs.front() == bs.back()) continue;
      const auto x = huber_fit(bs, ts);
      if (!(x(1) > 0)) continue;
      double c = 0;
      for (int k = i; k < j; ++k) {
        const double r = (x(0) + x(1) * b[k] - t[k]) / t[k];
        c += r * r;
      }
      cost[i][j] = c;
      s.line[i][j] = x;
    }
  }
  // a regime boundary never splits equal sizes
  s.best.assign(max_regimes + 1, std::vector<double>(n + 1, inf));
  s.from.assign(max_regimes + 1, std::vector<int>(n + 1, -1));
  s.best[0][0] = 0;
  for (int r = 1; r <= max_regimes; ++r) {
    for (int j = 1; j <= n; ++j) {
      if (j < n && b[j] == b[j - 1]) continue;
      for (int i = 0; i < j; ++i) {
        if (s.best[r - 1][i] == inf || cost[i][j] == inf) continue;
        if (s.best[r - 1][i] + cost[i][j] < s.best[r][j]) {
          s.best[r][j] = s.best[r - 1][i] + cost[i][j];
          s.from[r][j] = i;
        }
      }
    }
  }
  return s;
}

// fixed_regimes > 0: exactly that many regimes; 0: the fewest within target_relative_rms, else the best. Throws
// when no such fit exists.
PiecewiseFit fit_piecewise_core(std::span<const double> bytes, std::span<const double> seconds, int max_regimes,
                                double target_relative_rms, int min_points, int fixed_regimes = 0) {
  const auto s = segment(bytes, seconds, max_regimes, min_points);
  const int chosen = fixed_regimes > 0 ? (s.fits(fixed_regimes) ? fixed_regimes : -1)
                                       : s.by_rms_target(target_relative_rms);
  if (chosen < 0) {
    throw InputError("fit", "points", std::to_string(s.n), "no line with a positive bandwidth fits them");
  }
  return s.fit(chosen, bytes, seconds);
}

}  // namespace

PiecewiseFit fit_piecewise(std::span<const double> bytes, std::span<const double> seconds, int max_regimes,
                           double target_relative_rms, int min_points) {
  check_points(bytes, seconds);
  const double lo = *std::min_element(bytes.begin(), bytes.end()), hi = *std::max_element(bytes.begin(), bytes.end());
  // leave-one-out: each interior point predicted by fits of all the others, their split computed once for every
  // regime count; held_out[r]: the relative errors with r regimes (r = 0: the count the RMS target picks), or
  // nothing when some point cannot be held out with r (too few points left)
  std::vector<std::optional<std::vector<double>>> held_out(static_cast<std::size_t>(max_regimes) + 1,
                                                            std::vector<double>{});
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == lo || bytes[i] == hi) continue;
    std::vector<double> b, t;
    for (std::size_t k = 0; k < bytes.size(); ++k) {
      if (k == i) continue;
      b.push_back(bytes[k]);
      t.push_back(seconds[k]);
    }
    const auto s = segment(b, t, max_regimes, min_points);
    for (int r = 0; r <= max_regimes; ++r) {
      auto& errors = held_out[static_cast<std::size_t>(r)];
      if (!errors) continue;
      const int count = r == 0 ? s.by_rms_target(target_relative_rms) : (s.fits(r) ? r : -1);
      if (count < 0) {
        errors.reset();
        continue;
      }
      errors->push_back(s.fit(count, b, t).predict_seconds(bytes[i]) / seconds[i] - 1);
    }
  }
  // the regime count: cross-validated, the fewest regimes whose held-out error is within kParsimony of the best
  // count's (or under kEnough); where too few points to hold any out, the fewest within the RMS target. (The
  // held-out splits cost what the leave-one-out prediction error always cost: one segmentation per point.)
  constexpr double kParsimony = 1.25, kEnough = 0.01;
  std::vector<double> cv(static_cast<std::size_t>(max_regimes) + 1, std::numeric_limits<double>::infinity());
  for (int r = 1; r <= max_regimes; ++r) {
    const auto& errors = held_out[static_cast<std::size_t>(r)];
    if (!errors || errors->size() < 3) continue;
    double sum = 0;
    for (double e : *errors) sum += e * e;
    cv[static_cast<std::size_t>(r)] = std::sqrt(sum / static_cast<double>(errors->size()));
  }
  const double best_cv = *std::min_element(cv.begin(), cv.end());
  int chosen = 0;
  for (int r = 1; r <= max_regimes && chosen == 0 && std::isfinite(best_cv); ++r) {
    if (cv[static_cast<std::size_t>(r)] <= std::max(kEnough, kParsimony * best_cv)) chosen = r;
  }
  auto fit = fit_piecewise_core(bytes, seconds, max_regimes, target_relative_rms, min_points, chosen);
  fit.prediction_error = fit.max_relative_error;
  // chosen 0 (by the RMS target): each held-out fit with the count the target picks for it, as the fit chose
  if (const auto& errors = held_out[static_cast<std::size_t>(chosen)]) {
    for (double e : *errors) fit.prediction_error = std::max(fit.prediction_error, std::fabs(e));
  }
  // two-fold over alternate sizes (in size order)
  std::vector<std::size_t> order(bytes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return bytes[a] < bytes[b]; });
  for (std::size_t fold = 0; fold < 2; ++fold) {
    std::vector<double> b, t;
    for (std::size_t k = 0; k < order.size(); ++k) {
      if (k % 2 == fold) continue;
      b.push_back(bytes[order[k]]);
      t.push_back(seconds[order[k]]);
    }
    try {
      const auto half = fit_piecewise_core(b, t, max_regimes, target_relative_rms, std::max(2, min_points / 2));
      for (std::size_t k = fold; k < order.size(); k += 2) {
        const double x = bytes[order[k]];
        if (x <= b.front() || x >= b.back()) continue;
        fit.prediction_error = std::max(fit.prediction_error, std::fabs(half.predict_seconds(x) / seconds[order[k]] - 1));
      }
    } catch (const InputError&) {
      // too few points in a half
    }
  }
  return fit;
}

double fraction_while_overlapped(double alone_s, double together_s, double overlap_s) {
  if (!(overlap_s > 0)) return 1.0;
  return std::clamp((alone_s - together_s + overlap_s) / overlap_s, 0.01, 1.0);
}

}  // namespace bitscale
