// The one table of predictors: a new predictor is one file plus one line here.
#include <fmt/format.h>

#include "kernels/input_error.hpp"
#include "model/memory.hpp"
#include "model/parse.hpp"
#include <cmath>
#include "predictors/predictor.hpp"

namespace bitscale {

namespace {
constexpr PredictorInfo kPredictors[] = {
    {"timeline", "task-graph simulation of one step: per-layer backward, DDP buckets, codec and communication "
                 "streams, collectives as max-min fair flows on the topology graph (default)",
     make_timeline_predictor},
    {"alpha-beta", "closed form: alpha-beta collectives, roofline compute, no overlap or perfect overlap",
     make_alpha_beta_predictor},
    {"dettmers2015", "Dettmers 2015 (arXiv 1511.04561), reconstructed: one message per layer, each GPU sends its "
                     "compressed gradient to every other GPU, overlapped with backward",
     make_dettmers2015_predictor},
    {"aps", "Auto-Precision Scaling (arXiv 1911.08907), reconstructed: per-layer low-precision allreduce after the "
            "backward pass, one allreduce(MAX) of exponents per step",
     make_aps_predictor},
};
}  // namespace

std::span<const PredictorInfo> predictor_table() { return kPredictors; }

std::unique_ptr<Predictor> make_predictor(std::string_view name) {
  std::string valid;
  for (const auto& p : kPredictors) {
    if (p.name == name) return p.make();
    valid += (valid.empty() ? "" : ", ") + std::string(p.name);
  }
  throw InputError("", "--predictor", std::string(name), "unknown or not yet built predictor; valid: " + valid);
}

std::string_view name(Overlap o) { return o == Overlap::none ? "none" : "perfect"; }

std::string_view name(CodecStream c) { return c == CodecStream::compute ? "compute" : "own"; }

CodecStream parse_codec_stream(std::string_view text, std::string_view field) {
  if (text == "compute") return CodecStream::compute;
  if (text == "own") return CodecStream::own;
  throw InputError("", std::string(field), std::string(text), "unknown codec stream; valid: compute, own");
}

Prediction describe(const Scenario& s, std::string_view predictor, std::int64_t nodes) {
  Prediction p;
  p.workload = s.workload->name;
  p.cluster = s.cluster->name;
  p.precision = s.precision.name;
  p.compute = std::string(name(s.compute));
  p.storage = std::string(name(s.storage));
  p.optimizer = std::string(name(s.optimizer));
  p.predictor = std::string(predictor);
  p.overlap = std::string(name(s.overlap));
  p.gpus = s.gpus;
  p.nodes = nodes;
  p.batch = s.batch;
  p.bandwidth_gbps = s.cluster->inter_node_gbps_per_gpu();
  p.bucket_bytes = s.bucket_bytes;
  return p;
}

std::int64_t max_batch(double fixed_bytes, double per_sample_bytes, double gpu_bytes, std::int64_t multiple) {
  const double room = gpu_bytes - fixed_bytes;
  if (!(per_sample_bytes > 0) || !(room >= per_sample_bytes)) return 0;
  const auto batch = static_cast<std::int64_t>(std::min(std::floor(room / per_sample_bytes), 1e9));
  return batch - batch % multiple;
}

Overlap parse_overlap(std::string_view text, std::string_view field) {
  if (text == "none") return Overlap::none;
  if (text == "perfect") return Overlap::perfect;
  throw InputError("", std::string(field), std::string(text), "unknown overlap; valid: none, perfect");
}

void validate(const Scenario& s) {
  BITSCALE_CHECK(s.workload != nullptr && s.cluster != nullptr) << "scenario without workload or cluster";
  if (s.gpus < 1 || s.gpus > kMaxGpus) {
    throw InputError("", "--gpus", std::to_string(s.gpus), fmt::format("must be between 1 and {}", kMaxGpus));
  }
  if (s.batch < 1 || s.batch > 1'000'000'000) {
    throw InputError("", "--batch", std::to_string(s.batch), "must be between 1 and 1000000000");
  }
  if (!(s.bucket_bytes >= 4096) || s.bucket_bytes > 1e15) {
    throw InputError("", "--bucket", format_value(s.bucket_bytes), "must be between 4 KiB and 1 PB");
  }
  if (!(s.first_bucket_bytes >= 4096) || s.first_bucket_bytes > 1e15) {
    throw InputError("", "--first-bucket", format_value(s.first_bucket_bytes), "must be between 4 KiB and 1 PB");
  }
  if (!s.cluster->supports(s.compute)) {
    std::string have;
    for (int p = 0; p < kComputePrecisionCount; ++p) {
      const auto cp = static_cast<ComputePrecision>(p);
      if (s.cluster->supports(cp)) have += (have.empty() ? "" : ", ") + std::string(name(cp));
    }
    throw InputError("", "--compute", std::string(name(s.compute)),
                     fmt::format("the {} of cluster {} has no such rate; it has: {}", s.cluster->gpu_model,
                                 s.cluster->name, have));
  }
  for (auto [field, v] : {std::pair{"--tensor-parallel", s.tensor_parallel}, std::pair{"--pipeline-parallel", s.pipeline_parallel},
                           std::pair{"--microbatches", s.microbatches}}) {
    if (v < 1 || v > kMaxGpus) {
      throw InputError("", field, std::to_string(v), fmt::format("must be between 1 and {}", kMaxGpus));
    }
  }
  if (s.gpus % (s.tensor_parallel * s.pipeline_parallel) != 0) {
    throw InputError("", "--gpus", std::to_string(s.gpus),
                     fmt::format("must be a multiple of tensor x pipeline parallel = {}",
                                 s.tensor_parallel * s.pipeline_parallel));
  }
  if (s.batch % s.microbatches != 0) {
    throw InputError("", "--microbatches", std::to_string(s.microbatches),
                     fmt::format("must divide the batch per GPU ({})", s.batch));
  }
  if (s.algorithm && !s.precision.summable && *s.algorithm != Algorithm::gather) {
    throw InputError("", "--algorithm", std::string(name(*s.algorithm)),
                     fmt::format("precision {} cannot be summed on the wire: only gather applies", s.precision.name));
  }
  if (s.algorithm && (*s.algorithm == Algorithm::chain || *s.algorithm == Algorithm::binomial)) {
    throw InputError("", "--algorithm", std::string(name(*s.algorithm)),
                     "not an allreduce algorithm; valid: ring, tree, halving-doubling, hierarchical, gather");
  }
}

}  // namespace bitscale
