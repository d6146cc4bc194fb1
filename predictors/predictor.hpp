// The Predictor interface: predict(workload, profile, configuration) -> Prediction, and the one table of
// predictors. Field names match the JSON/CSV contract of ../shared/DESIGN.md.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kernels/wire_format.hpp"
#include "model/cluster.hpp"
#include "model/collectives.hpp"
#include "model/precision.hpp"
#include "model/workload.hpp"

namespace bitscale {

enum class Overlap { none, perfect };
std::string_view name(Overlap o);
Overlap parse_overlap(std::string_view text, std::string_view field = "--overlap");

inline constexpr double kDefaultBucketBytes = 25.0 * 1024 * 1024;  // PyTorch DDP bucket_cap_mb = 25

struct Scenario {
  const Workload* workload = nullptr;
  const ClusterProfile* cluster = nullptr;  // with any --bandwidth-gbps override already applied
  std::int64_t gpus = 1;
  WireFormat precision;  // gradient wire format
  ComputePrecision compute = ComputePrecision::fp32;
  StoragePolicy storage = StoragePolicy::fp32;
  Optimizer optimizer = Optimizer::momentum;
  std::int64_t batch = 1;  // per GPU
  double bucket_bytes = kDefaultBucketBytes;  // of fp32 gradients: floor(bucket_bytes / 4) values per bucket
  std::optional<Algorithm> algorithm;         // forced allreduce algorithm
  Overlap overlap = Overlap::perfect;
};

struct Prediction {
  std::string workload, cluster, precision, compute, storage, optimizer, predictor, algorithm, overlap;
  std::int64_t gpus = 1, nodes = 1, batch = 1, buckets = 0;
  double bandwidth_gbps = 0;  // inter-node per GPU
  double bucket_bytes = 0;
  double step_time_s = 0, compute_s = 0, forward_s = 0, backward_s = 0, optimizer_s = 0;
  double comm_s = 0, exposed_comm_s = 0, codec_s = 0;
  double step_time_no_overlap_s = 0, step_time_perfect_overlap_s = 0;
  double wire_bytes_per_step = 0;  // bytes each GPU hands to the collectives per step
  double throughput_samples_per_s = 0, speedup = 0, speedup_vs_fp32_1gpu = 0, efficiency = 0;
  double memory_per_gpu_bytes = 0, gpu_memory_bytes = 0;
  bool fits_in_memory = true;
};

class Predictor {
 public:
  virtual ~Predictor() = default;
  virtual std::string_view name() const = 0;
  virtual Prediction predict(const Scenario& s) const = 0;
};

struct PredictorInfo {
  std::string_view name;
  std::string_view summary;
  std::unique_ptr<Predictor> (*make)();
};
std::span<const PredictorInfo> predictor_table();
// Throws InputError listing the valid names.
std::unique_ptr<Predictor> make_predictor(std::string_view name);
inline constexpr std::string_view kDefaultPredictor = "alpha-beta";

// Checks what every predictor needs of a scenario (GPU count fits the cluster, the compute precision exists
// on the GPU, positive batch and bucket); throws InputError.
void validate(const Scenario& s);

std::unique_ptr<Predictor> make_alpha_beta_predictor();

}  // namespace bitscale
