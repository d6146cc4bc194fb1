#include "predictors/uncertainty.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace bitscale {

ClusterProfile scaled(const ClusterProfile& c, const ParameterScale& s) {
  ClusterProfile out = c;
  for (auto& t : out.peak_tflops) t *= s.compute;
  for (auto& [key, rate] : out.layer_gflops) rate *= s.compute;
  out.hbm_gbyte_per_s *= s.memory_bandwidth;
  for (auto& [key, rate] : out.codec_gbyte_per_s) rate *= s.codecs;
  for (auto& [key, rate] : out.codec_encode_gbyte_per_s) rate *= s.codecs;
  for (auto& [key, rate] : out.codec_decode_gbyte_per_s) rate *= s.codecs;
  out.codec_hbm_efficiency *= s.codecs;  // a factor here, not a fraction: it may pass 1
  for (auto& [key, rate] : out.reduction_gbyte_per_s) rate *= s.codecs;
  for (auto& [key, curve] : out.reduction_by_size) {
    for (auto& ns : curve.ns_per_byte) ns /= s.codecs;
  }
  out.intra_node_gbps *= s.node_bandwidth;
  out.intra_node_latency_us *= s.node_latency;
  for (auto& r : out.intra_node_regimes) {
    r.bandwidth_gbps *= s.node_bandwidth;
    r.latency_us *= s.node_latency;
  }
  out.nic_gbps *= s.network_bandwidth;
  out.inter_node_latency_us *= s.network_latency;
  for (auto& r : out.inter_node_regimes) {
    r.bandwidth_gbps *= s.network_bandwidth;
    r.latency_us *= s.network_latency;
  }
  return out;
}

namespace {

// Standard normal deviates from a generator whose output the C++ standard fixes (mt19937_64), by Box-Muller,
// so that an interval is the same with every standard library.
class Normal {
 public:
  explicit Normal(std::uint64_t seed) : gen_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (static_cast<double>(gen_() >> 11) + 0.5) * 0x1.0p-53;  // (0, 1)
    const double u2 = static_cast<double>(gen_() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// A link bandwidth's log-multiplier rounded to a grid of a fifth of its standard deviation sigma, at most 0.05 (5%):
// the flow model solves the links once per pair of link rates up to scale (model/topology_collectives.cpp), which
// takes a tenth of a second at 65,536 GPUs; on the grid the draws share a few dozen ratios. The rounding adds a
// spread of step / sqrt(12) <= 0.058 sigma to the log: the interval widens by under 0.2%.
double on_grid(double log_multiplier, double sigma) {
  const double step = std::min(0.05, sigma / 5);
  return step > 0 ? step * std::round(log_multiplier / step) : log_multiplier;
}

// The q-quantile of sorted values, linear between neighbours.
double quantile(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<std::size_t>(at);
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (at - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

}  // namespace

StepTimeInterval step_time_interval(const Predictor& p, const Scenario& s, int samples, std::uint64_t seed) {
  const auto& u = s.cluster->uncertainty;
  Scenario draw = s;
  draw.record_timeline = false;
  if (!u.stated() || samples < 2) {
    const double t = p.predict(draw).step_time_s;
    return {t, t, t, 0};
  }
  Normal normal(seed);
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(samples));
  for (int i = 0; i < samples; ++i) {
    // every group drawn on every sample, stated or not, so a group's draws do not depend on the others' being 0
    ParameterScale m;
    m.compute = std::exp(u.compute * normal());
    m.memory_bandwidth = std::exp(u.memory_bandwidth * normal());
    m.codecs = std::exp(u.codecs * normal());
    m.node_bandwidth = std::exp(on_grid(u.node_bandwidth * normal(), u.node_bandwidth));
    m.node_latency = std::exp(u.node_latency * normal());
    m.network_bandwidth = std::exp(on_grid(u.network_bandwidth * normal(), u.network_bandwidth));
    m.network_latency = std::exp(u.network_latency * normal());
    const ClusterProfile c = scaled(*s.cluster, m);
    draw.cluster = &c;
    times.push_back(p.predict(draw).step_time_s);
  }
  std::sort(times.begin(), times.end());
  return {quantile(times, 0.05), quantile(times, 0.5), quantile(times, 0.95), samples};
}

void add_interval(Prediction& prediction, const Predictor& p, const Scenario& s) {
  prediction.has_interval = true;
  if (!s.cluster->uncertainty.stated()) {  // no spread: the prediction itself, without predicting it again
    prediction.step_time_low_s = prediction.step_time_high_s = prediction.step_time_s;
    return;
  }
  const auto i = step_time_interval(p, s);
  // the interval holds the prediction itself: sampling noise must not put the central value outside it
  prediction.step_time_low_s = std::min(i.low_s, prediction.step_time_s);
  prediction.step_time_high_s = std::max(i.high_s, prediction.step_time_s);
}

std::vector<Elasticity> elasticities(const Predictor& p, const Scenario& s) {
  constexpr double kStep = 1.05;
  Scenario at = s;
  at.record_timeline = false;
  std::vector<Elasticity> out;
  auto slope = [&](double up_s, double down_s) { return std::log(up_s / down_s) / (2.0 * std::log(kStep)); };
  const std::pair<const char*, double ParameterScale::*> groups[] = {
      {"network bandwidth", &ParameterScale::network_bandwidth},
      {"network latency", &ParameterScale::network_latency},
      {"node bandwidth", &ParameterScale::node_bandwidth},
      {"node latency", &ParameterScale::node_latency},
      {"compute rate", &ParameterScale::compute},
      {"memory bandwidth", &ParameterScale::memory_bandwidth},
      {"codec throughput", &ParameterScale::codecs},
  };
  for (const auto& [label, member] : groups) {
    ParameterScale up, down;
    up.*member = kStep;
    down.*member = 1.0 / kStep;
    const ClusterProfile cu = scaled(*s.cluster, up), cd = scaled(*s.cluster, down);
    at.cluster = &cu;
    const double tu = p.predict(at).step_time_s;
    at.cluster = &cd;
    const double td = p.predict(at).step_time_s;
    out.push_back({label, slope(tu, td)});
  }
  at.cluster = s.cluster;
  Scenario up = at, down = at;
  up.bucket_bytes = s.bucket_bytes * kStep;
  down.bucket_bytes = std::max(4096.0, s.bucket_bytes / kStep);
  out.push_back({"bucket size", std::log(p.predict(up).step_time_s / p.predict(down).step_time_s) /
                                    std::log(up.bucket_bytes / down.bucket_bytes)});
  std::stable_sort(out.begin(), out.end(),
                   [](const Elasticity& a, const Elasticity& b) { return std::abs(a.value) > std::abs(b.value); });
  return out;
}

}  // namespace bitscale
