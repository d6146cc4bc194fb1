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
#include "model/timeline.hpp"
#include "model/precision.hpp"
#include "model/workload.hpp"

namespace bitscale {

enum class Overlap { none, perfect };
std::string_view name(Overlap o);
Overlap parse_overlap(std::string_view text, std::string_view field = "--overlap");

inline constexpr double kDefaultBucketBytes = 25.0 * 1024 * 1024;  // PyTorch DDP bucket_cap_mb = 25
// PyTorch DDP caps its first bucket (the last layers' gradients, ready first) at 1 MiB
// (torch.distributed._DEFAULT_FIRST_BUCKET_BYTES) so that communication starts early
inline constexpr double kDefaultFirstBucketBytes = 1024.0 * 1024;

// Where codec kernels run in the timeline: on the compute stream (between backward kernels, as a DDP
// communication hook launches them) or on a stream of their own (concurrent with compute; contention for the
// GPU's memory bandwidth is not modelled).
enum class CodecStream { compute, own };
std::string_view name(CodecStream c);
CodecStream parse_codec_stream(std::string_view text, std::string_view field = "--codec-stream");

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
  double first_bucket_bytes = kDefaultFirstBucketBytes;  // timeline: cap of the first bucket
  CodecStream codec_stream = CodecStream::compute;       // timeline
  bool record_timeline = false;                          // timeline: keep the scheduled tasks (--explain, --trace)
  // parallelism (timeline): gpus = data x tensor x pipeline
  std::int64_t tensor_parallel = 1, pipeline_parallel = 1;
  std::int64_t microbatches = 1;  // per step and pipeline (gradient accumulation when pipeline_parallel is 1)
  bool model_parallel_fc = false;  // linear layers split over the data-parallel ranks, activations exchanged
};

// The scheduled step of the timeline predictor.
struct BucketDetail {
  std::int32_t first_layer = 0, last_layer = 0;  // backward order: the bucket holds layers last_layer..first_layer
  double fp32_bytes = 0, wire_bytes = 0;
  double ready_s = 0, comm_start_s = 0, comm_end_s = 0, done_s = 0;
  std::string algorithm;
};
struct TimelineDetail {
  std::int32_t layer_offset = 0;  // task and bucket layer numbers count from this layer (a pipeline stage's first)
  TaskGraph graph;
  std::vector<BucketDetail> buckets;
};

struct Prediction {
  std::string workload, cluster, precision, compute, storage, optimizer, predictor, algorithm, overlap;
  std::int64_t gpus = 1, nodes = 1, batch = 1, buckets = 0;
  double bandwidth_gbps = 0;  // inter-node per GPU
  double bucket_bytes = 0;
  double step_time_s = 0, compute_s = 0, forward_s = 0, backward_s = 0, optimizer_s = 0;
  // in backward_s (timeline predictor, CPU ranks): the compute tasks' time lost running beside collectives, and
  // the compute stream's time lost launching them (handing a collective to a sleeping communication thread)
  double contention_s = 0, launch_s = 0;
  // in forward_s and backward_s (timeline predictor, data-parallel ranks): the time the slowest rank adds to the
  // passes ([gpu] rank_skew), which a rank's own compute does not hold (it waits for the slowest instead)
  double skew_s = 0;
  double comm_s = 0, exposed_comm_s = 0, codec_s = 0;
  double step_time_no_overlap_s = 0, step_time_perfect_overlap_s = 0;
  double wire_bytes_per_step = 0;  // bytes each GPU hands to the collectives per step
  double throughput_samples_per_s = 0, speedup = 0, speedup_vs_fp32_1gpu = 0, efficiency = 0;
  double memory_per_gpu_bytes = 0, gpu_memory_bytes = 0;
  bool fits_in_memory = true;
  std::int64_t max_batch = 0;  // the largest batch per GPU that fits in memory (0: not even one sample)
  std::int64_t tensor_parallel = 1, pipeline_parallel = 1, microbatches = 1, data_parallel = 1;
  double bubble_s = 0;  // pipeline fill and drain: the compute stream idle
  double tensor_comm_s = 0, pipeline_comm_s = 0, model_parallel_comm_s = 0;  // blocking, included in comm_s
  std::shared_ptr<const TimelineDetail> timeline;  // when the scenario asked for it (timeline predictor)
  // the step time's 90% interval from the profile's stated uncertainty (predictors/uncertainty.hpp), when asked
  bool has_interval = false;
  double step_time_low_s = 0, step_time_high_s = 0;
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
inline constexpr std::string_view kDefaultPredictor = "timeline";

// Checks what every predictor needs of a scenario (GPU count fits the cluster, the compute precision exists
// on the GPU, positive batch and bucket); throws InputError.
void validate(const Scenario& s);

// A prediction with the scenario's description filled in (names, counts, bandwidth, bucket), for `predictor`.
Prediction describe(const Scenario& s, std::string_view predictor, std::int64_t nodes);

// The largest batch per GPU, a whole number of `multiple`s (microbatches), whose memory fixed + batch x
// per_sample fits gpu_bytes (memory grows linearly with the batch); 0 when even one sample does not fit.
std::int64_t max_batch(double fixed_bytes, double per_sample_bytes, double gpu_bytes, std::int64_t multiple = 1);

std::unique_ptr<Predictor> make_alpha_beta_predictor();
std::unique_ptr<Predictor> make_timeline_predictor();
std::unique_ptr<Predictor> make_dettmers2015_predictor();
std::unique_ptr<Predictor> make_aps_predictor();

}  // namespace bitscale
