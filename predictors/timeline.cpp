// The timeline predictor: one training step as a task graph (model/timeline.hpp), scheduled on the compute
// stream, the codec stream (the compute stream itself unless --codec-stream own) and the communication stream.
//   forward          one task: the sum of the layers' roofline times (model/compute.hpp)
//   backward         one task per layer, in reverse layer order, 2x the layer's forward time
//   buckets          gradients grouped in backward order as PyTorch DDP does: a bucket closes once it holds at
//                    least its cap (the first bucket 1 MiB, the others --bucket, 25 MiB by default); a layer
//                    larger than the cap is a bucket of its own; a bucket is ready when its last layer's
//                    backward ends
//   per bucket       [absmax pass -> one-scalar allreduce (APS codecs)] -> encode -> allreduce (summable wire
//                    values; algorithm by the topology flow model, fastest unless forced) or gather
//                    (non-summable) -> decode (one) or (p-1) decode-and-accumulate (gathered)
//   optimizer        on the compute stream after every bucket is done and the backward pass has ended
//   overlap none     the buckets' work waits for the end of the backward pass and runs one bucket after the
//                    other (no overlap at all: the step is compute + codec + communication)
// Step time = end of the optimizer; exposed communication = step - compute (forward + backward + optimizer).
// Codec kernel times come from the profile's codec rates (model/compute.hpp codec_seconds).
#include <algorithm>
#include <cmath>

#include "kernels/input_error.hpp"
#include "model/compute.hpp"
#include "model/memory.hpp"
#include "model/topology_collectives.hpp"
#include "predictors/predictor.hpp"
#include "predictors/timeline.hpp"

namespace bitscale {

namespace {

struct Bucket {
  std::int32_t first_layer = 0, last_layer = 0;  // in backward order: first_layer is the highest index
  double fp32_bytes = 0;
};

// DDP's bucketing over layers in reverse order (layers without parameters hold no gradient).
std::vector<Bucket> make_buckets(const Workload& w, double first_cap, double cap) {
  std::vector<Bucket> out;
  Bucket b;
  bool open = false;
  for (auto i = static_cast<std::int32_t>(w.layers.size()) - 1; i >= 0; --i) {
    const auto& l = w.layers[static_cast<std::size_t>(i)];
    if (l.parameters == 0) continue;
    if (!open) {
      b = Bucket{i, i, 0};
      open = true;
    }
    b.last_layer = i;
    b.fp32_bytes += 4.0 * static_cast<double>(l.parameters);
    if (b.fp32_bytes >= (out.empty() ? first_cap : cap)) {
      out.push_back(b);
      open = false;
    }
  }
  if (open) out.push_back(b);
  return out;
}

}  // namespace

Prediction predict_timeline(const Scenario& s, const TimelineVariant& v) {
  validate(s);
  const auto& w = *s.workload;
  const auto& c = *s.cluster;
  const Fabric f = make_fabric(c, s.gpus);
  const auto& fmt = s.precision;

  Prediction p;
  p.workload = w.name;
  p.cluster = c.name;
  p.precision = fmt.name;
  p.compute = std::string(bitscale::name(s.compute));
  p.storage = std::string(bitscale::name(s.storage));
  p.optimizer = std::string(bitscale::name(s.optimizer));
  p.predictor = std::string(v.name);
  p.overlap = std::string(bitscale::name(s.overlap));
  p.gpus = s.gpus;
  p.nodes = f.nodes;
  p.batch = s.batch;
  p.bandwidth_gbps = c.inter_node_gbps_per_gpu();
  p.bucket_bytes = s.bucket_bytes;

  auto detail = std::make_shared<TimelineDetail>();
  auto& g = detail->graph;
  const auto layers = static_cast<std::int32_t>(w.layers.size());
  g.reserve(static_cast<std::size_t>(layers) + 8);

  // compute stream: forward, backward per layer in reverse order
  std::vector<double> fwd(w.layers.size());
  double forward = 0;
  for (std::size_t i = 0; i < fwd.size(); ++i) {
    fwd[i] = layer_forward_seconds(w.layers[i], c, s.compute, s.batch);
    forward += fwd[i];
  }
  const auto sc = step_compute(w, c, s.compute, s.storage, s.optimizer, s.batch);
  std::vector<std::int32_t> backward_task(w.layers.size());
  std::int32_t prev = g.add({TaskKind::forward, Stream::compute, forward, -1, -1, 1}, {});
  for (auto i = layers - 1; i >= 0; --i) {
    prev = g.add({TaskKind::backward, Stream::compute, 2.0 * fwd[static_cast<std::size_t>(i)], i, -1, 1}, {prev});
    backward_task[static_cast<std::size_t>(i)] = prev;
  }
  const std::int32_t last_backward = prev;

  std::vector<std::int32_t> finals;  // the last task of every bucket
  double comm_buffers = 0;
  p.algorithm = "none";
  if (s.gpus > 1) {
    const auto buckets = v.per_layer_messages
                             ? make_buckets(w, 0, 0)
                             : make_buckets(w, std::min(s.first_bucket_bytes, s.bucket_bytes), s.bucket_bytes);
    p.buckets = static_cast<std::int64_t>(buckets.size());
    const bool compressed = fmt.name != "fp32";
    const bool gathered = v.force_gather || !fmt.summable || (s.algorithm && *s.algorithm == Algorithm::gather);
    const bool no_overlap = v.after_backward || s.overlap == Overlap::none;
    std::int32_t step_scale = -1;  // APS per step: the exponents of every tensor in one allreduce(MAX)
    if (fmt.aps && v.scale_per_step) {
      const double grad = 4.0 * static_cast<double>(w.parameters());
      const Stream codec = s.codec_stream == CodecStream::own ? Stream::codec : Stream::compute;
      const auto absmax = g.add({TaskKind::absmax, codec, codec_seconds(c, fmt.name, grad, 0), -1, -1, 0}, {last_backward});
      step_scale = g.add({TaskKind::scale_allreduce, Stream::comm,
                          topology_best_allreduce(c, f, 4.0 * static_cast<double>(w.parameter_tensors())).seconds,
                          -1, -1, 0},
                         {absmax});
    }
    const Stream codec = s.codec_stream == CodecStream::own ? Stream::codec : Stream::compute;
    // collectives of the same size cost the same: most buckets share the cap's size
    double memo_bytes = -1;
    CollectiveTime memo{};
    double largest = 0;
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      const auto& bk = buckets[b];
      const auto bi = static_cast<std::int32_t>(b);
      const double values = bk.fp32_bytes / 4.0;
      const double wire = fmt.wire_bytes(values);
      const double payload = wire - fmt.bucket_scale_bytes;
      std::int32_t after = backward_task[static_cast<std::size_t>(bk.last_layer)];
      // no overlap: after the backward pass, and each bucket after the previous one is done
      std::int32_t extra = after;
      if (no_overlap) extra = finals.empty() ? last_backward : finals.back();
      if (step_scale >= 0) {
        after = step_scale;
      } else if (fmt.aps) {
        after = g.add({TaskKind::absmax, codec, codec_seconds(c, fmt.name, bk.fp32_bytes, 0), -1, bi, 0}, {after, extra});
        extra = after;
        after = g.add({TaskKind::scale_allreduce, Stream::comm, topology_best_allreduce(c, f, 4.0).seconds, -1, bi, 0},
                      {after});
      }
      if (compressed) {
        after = g.add({TaskKind::encode, codec, codec_seconds(c, fmt.name, bk.fp32_bytes, wire), -1, bi, 0}, {after, extra});
        extra = after;
      }
      if (payload != memo_bytes) {
        memo_bytes = payload;
        if (gathered) {
          memo = {topology_collective_seconds(c, f, payload, Algorithm::gather), Algorithm::gather};
        } else if (s.algorithm) {
          memo = {topology_collective_seconds(c, f, payload, *s.algorithm), *s.algorithm};
        } else {
          memo = topology_best_allreduce(c, f, payload);
        }
      }
      after = g.add({gathered ? TaskKind::gather : TaskKind::allreduce, Stream::comm, memo.seconds, -1, bi, 0},
                    {after, extra});
      const std::int32_t comm_task = after;
      if (gathered) {
        const double decode_accumulate = codec_seconds(c, fmt.name, wire + bk.fp32_bytes, bk.fp32_bytes);
        after = g.add({TaskKind::decode, codec, static_cast<double>(s.gpus - 1) * decode_accumulate, -1, bi, 0}, {after});
      } else if (compressed) {
        after = g.add({TaskKind::decode, codec, codec_seconds(c, fmt.name, wire, bk.fp32_bytes), -1, bi, 0}, {after});
      }
      finals.push_back(after);
      p.wire_bytes_per_step += wire;
      if (bk.fp32_bytes >= largest) {
        largest = bk.fp32_bytes;
        p.algorithm = std::string(bitscale::name(memo.algorithm));
        comm_buffers = bk.fp32_bytes + wire * (gathered ? static_cast<double>(s.gpus) : 1.0);
      }
      detail->buckets.push_back({bk.first_layer, bk.last_layer, bk.fp32_bytes, wire, 0, 0, 0, 0,
                                 std::string(bitscale::name(memo.algorithm))});
      detail->buckets.back().comm_start_s = comm_task;  // task id until scheduled
    }
  }
  finals.push_back(last_backward);
  const std::int32_t optimizer = g.add({TaskKind::optimizer, Stream::compute, sc.optimizer_s, -1, -1, 1}, finals);
  g.schedule();

  p.forward_s = forward;
  p.optimizer_s = sc.optimizer_s;
  for (const auto& t : g.tasks()) {
    switch (t.kind) {
      case TaskKind::backward: p.backward_s += t.duration_s; break;
      case TaskKind::absmax:
      case TaskKind::encode:
      case TaskKind::decode: p.codec_s += t.duration_s; break;
      case TaskKind::scale_allreduce:
      case TaskKind::allreduce:
      case TaskKind::gather: p.comm_s += t.duration_s; break;
      default: break;
    }
  }
  p.compute_s = p.forward_s + p.backward_s + p.optimizer_s;
  p.step_time_s = g[optimizer].end_s;
  p.exposed_comm_s = p.step_time_s - p.compute_s;
  p.step_time_no_overlap_s = p.compute_s + p.codec_s + p.comm_s;
  p.step_time_perfect_overlap_s = p.compute_s + std::max(p.codec_s, p.comm_s - p.backward_s);

  const auto gpus = static_cast<double>(s.gpus);
  p.throughput_samples_per_s = gpus * static_cast<double>(s.batch) / p.step_time_s;
  p.speedup = gpus * p.compute_s / p.step_time_s;
  p.efficiency = p.speedup / gpus;
  const auto fp32 = step_compute(w, c, ComputePrecision::fp32, StoragePolicy::fp32, s.optimizer, s.batch);
  p.speedup_vs_fp32_1gpu = gpus * fp32.total_s() / p.step_time_s;

  const auto mem = memory_per_gpu(w, c, s.compute, s.storage, s.optimizer, s.batch, comm_buffers);
  p.memory_per_gpu_bytes = mem.total();
  p.gpu_memory_bytes = gib(c.gpu_memory_gib);
  p.fits_in_memory = p.memory_per_gpu_bytes <= p.gpu_memory_bytes;
  p.max_batch = max_batch(s, comm_buffers);
  if (!std::isfinite(p.step_time_s) || !std::isfinite(p.memory_per_gpu_bytes) || !(p.step_time_s > 0)) {
    throw InputError("", "configuration", "", "the prediction overflows: inputs beyond the model's range");
  }
  if (s.record_timeline) {
    for (std::size_t b = 0; b < detail->buckets.size(); ++b) {
      auto& bd = detail->buckets[b];
      const auto comm = static_cast<std::int32_t>(bd.comm_start_s);
      bd.ready_s = g[backward_task[static_cast<std::size_t>(bd.last_layer)]].end_s;
      bd.comm_start_s = g[comm].start_s;
      bd.comm_end_s = g[comm].end_s;
      bd.done_s = g[finals[b]].end_s;
    }
    p.timeline = std::move(detail);
  }
  return p;
}

namespace {
class TimelinePredictor final : public Predictor {
 public:
  std::string_view name() const override { return "timeline"; }
  Prediction predict(const Scenario& s) const override { return predict_timeline(s, TimelineVariant{}); }
};
}  // namespace

std::unique_ptr<Predictor> make_timeline_predictor() { return std::make_unique<TimelinePredictor>(); }

}  // namespace bitscale
