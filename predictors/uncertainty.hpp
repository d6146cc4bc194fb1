// How sure a prediction is, and what moves it.
//   step_time_interval  the profile's stated uncertainty ([uncertainty], model/cluster.hpp) propagated through a
//                       predictor by sampling: every parameter group drawn log-normal around the profile's value,
//                       independently, the predictor run on each draw; the 5th and 95th percentiles of the step
//                       time make its 90% interval
//   elasticities        d log(step time) / d log(parameter) of each parameter group and of the bucket size, by
//                       central differences of +-5% (the timeline is piecewise: algorithm switches, bucket
//                       boundaries; a wider step than the 1% a smooth model would take sees past the kinks without
//                       averaging over distant ones)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/cluster.hpp"
#include "predictors/predictor.hpp"

namespace bitscale {

// Multipliers of a profile's parameter groups (1: as the profile says).
struct ParameterScale {
  double compute = 1, memory_bandwidth = 1, codecs = 1;
  double node_bandwidth = 1, node_latency = 1, network_bandwidth = 1, network_latency = 1;
};

// The profile with each group's numbers multiplied:
//   compute            peak_tflops (every precision) and the measured layer rates
//   memory_bandwidth   hbm_gbyte_per_s
//   codecs             the measured codec rates, codec_hbm_efficiency and the reduction rates
//   node_bandwidth / node_latency        intra_node bandwidth / latency and those of its regimes
//   network_bandwidth / network_latency  nic_bandwidth_gbps / inter_node latency and those of its regimes
ClusterProfile scaled(const ClusterProfile& c, const ParameterScale& s);

struct StepTimeInterval {
  double low_s = 0, median_s = 0, high_s = 0;  // 5th, 50th and 95th percentiles of the sampled step times
  int samples = 0;                             // 0: no uncertainty stated, low = median = high = the prediction
};

inline constexpr int kIntervalSamples = 64;

// The 90% interval of the step time of scenario `s` (its cluster's stated uncertainty) under predictor `p`:
// `samples` draws with a fixed seed, so the same scenario always gets the same interval.
StepTimeInterval step_time_interval(const Predictor& p, const Scenario& s, int samples = kIntervalSamples,
                                    std::uint64_t seed = 1);

// Fills p.step_time_low_s and p.step_time_high_s (and has_interval) of prediction `p` of scenario `s`.
void add_interval(Prediction& prediction, const Predictor& p, const Scenario& s);

struct Elasticity {
  std::string parameter;  // "network bandwidth", ...
  double value = 0;       // d log T / d log parameter: +1% of the parameter moves the step time by value %
};

// The elasticity of the step time to each parameter group and to the bucket size, largest magnitude first.
std::vector<Elasticity> elasticities(const Predictor& p, const Scenario& s);

}  // namespace bitscale
