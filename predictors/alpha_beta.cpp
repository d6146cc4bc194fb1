// The closed-form alpha-beta predictor.
//   compute   C = forward + backward + optimizer            (model/compute.hpp, roofline per layer)
//   buckets   the fp32 gradient (4 bytes x parameters) cut into buckets of bucket_bytes (DDP's 25 MiB)
//   per bucket of e values, wire size w = wire_bytes(e):
//     summable   allreduce(w), fastest of ring/tree/halving-doubling/hierarchical (or the forced one);
//                codec: encode (read 4e, write w) + decode (read w, write 4e); APS adds a max pass (read 4e)
//                and an allreduce of one 4-byte scalar
//     gathered   ring allgather of every rank's w; codec: encode + (p-1) decode-and-accumulate
//                (read w, read and write the 4e accumulator)
//   step time  no overlap:      C + codec + comm
//              perfect overlap: forward + optimizer + max(backward + codec, comm)
//                               (codec kernels share the compute stream; only communication hides)
//   exposed communication = step time - C; speedup = gpus x C / step (the 1-GPU step is C, same precision);
//   speedup_vs_fp32_1gpu uses the 1-GPU step with fp32 compute and fp32 storage.
#include <algorithm>
#include <cmath>

#include "kernels/input_error.hpp"
#include "model/compute.hpp"
#include "model/memory.hpp"
#include "predictors/predictor.hpp"

namespace bitscale {

namespace {

struct BucketCost {
  double comm_s = 0, codec_s = 0, wire_bytes = 0;
  Algorithm algorithm = Algorithm::ring;
};

BucketCost bucket_cost(const Scenario& s, const Fabric& f, double fp32_bytes) {
  const auto& fmt = s.precision;
  const double values = fp32_bytes / 4.0;
  BucketCost b;
  b.wire_bytes = fmt.wire_bytes(values);
  const double payload = b.wire_bytes - fmt.bucket_scale_bytes;  // the APS scale travels in its own allreduce
  const bool compressed = fmt.name != "fp32";
  if (fmt.summable && !(s.algorithm && *s.algorithm == Algorithm::gather)) {
    if (s.algorithm) {
      b.comm_s = allreduce_seconds(f, payload, *s.algorithm);
      b.algorithm = *s.algorithm;
    } else {
      const auto t = best_allreduce(f, payload);
      b.comm_s = t.seconds;
      b.algorithm = t.algorithm;
    }
    if (compressed) {
      b.codec_s = codec_seconds(*s.cluster, fmt.name, fp32_bytes, b.wire_bytes, CodecDirection::encode) +
                  codec_seconds(*s.cluster, fmt.name, b.wire_bytes, fp32_bytes, CodecDirection::decode);
    }
  } else {
    const auto t = gather_reduce(f, payload);
    b.comm_s = t.seconds;
    b.algorithm = t.algorithm;
    const double decode_accumulate =
        codec_seconds(*s.cluster, fmt.name, b.wire_bytes + fp32_bytes, fp32_bytes, CodecDirection::decode);
    const double encode =
        compressed ? codec_seconds(*s.cluster, fmt.name, fp32_bytes, b.wire_bytes, CodecDirection::encode) : 0.0;
    b.codec_s = encode + static_cast<double>(f.ranks - 1) * decode_accumulate;
  }
  if (fmt.aps) {
    b.comm_s += best_allreduce(f, 4.0).seconds;
    b.codec_s += absmax_seconds(*s.cluster, fp32_bytes);  // the APS absmax pass, memory-bound as in the timeline
  }
  return b;
}

class AlphaBetaPredictor final : public Predictor {
 public:
  std::string_view name() const override { return "alpha-beta"; }

  Prediction predict(const Scenario& s) const override {
    validate(s);
    const auto& w = *s.workload;
    const auto& c = *s.cluster;
    const Fabric f = make_fabric(c, s.gpus);

    Prediction p = describe(s, name(), f.nodes);

    const auto sc = step_compute(w, c, s.compute, s.storage, s.optimizer, s.batch);
    p.forward_s = sc.forward_s;
    p.backward_s = sc.backward_s;
    p.optimizer_s = sc.optimizer_s;
    p.compute_s = sc.total_s();

    const auto values = static_cast<double>(w.parameters());
    double comm_buffers = 0;
    p.algorithm = "none";
    if (s.gpus > 1) {
      const double bucket_values = std::floor(s.bucket_bytes / 4.0);
      const double full = std::floor(values / bucket_values);
      const double rest = 4.0 * (values - full * bucket_values);  // fp32 bytes of the last, partial bucket
      p.buckets = static_cast<std::int64_t>(full) + (rest > 0 ? 1 : 0);
      const double largest = full > 0 ? 4.0 * bucket_values : rest;
      const auto big = bucket_cost(s, f, largest);
      p.algorithm = std::string(bitscale::name(big.algorithm));
      if (full > 0) {
        p.comm_s += full * big.comm_s;
        p.codec_s += full * big.codec_s;
        p.wire_bytes_per_step += full * big.wire_bytes;
      }
      if (rest > 0 && full > 0) {
        const auto small = bucket_cost(s, f, rest);
        p.comm_s += small.comm_s;
        p.codec_s += small.codec_s;
        p.wire_bytes_per_step += small.wire_bytes;
      } else if (rest > 0) {
        p.comm_s += big.comm_s;
        p.codec_s += big.codec_s;
        p.wire_bytes_per_step += big.wire_bytes;
      }
      const bool gathered = big.algorithm == Algorithm::gather;
      comm_buffers = largest + big.wire_bytes * (gathered ? static_cast<double>(s.gpus) : 1.0);
    }

    p.step_time_no_overlap_s = p.compute_s + p.codec_s + p.comm_s;
    // forward + optimizer + max(backward + codec, comm), written so that no communication gives exactly C
    p.step_time_perfect_overlap_s = p.compute_s + std::max(p.codec_s, p.comm_s - sc.backward_s);
    p.step_time_s = s.overlap == Overlap::none ? p.step_time_no_overlap_s : p.step_time_perfect_overlap_s;
    p.exposed_comm_s = p.step_time_s - p.compute_s;

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
    p.max_batch = max_batch(mem.total() - mem.activation_bytes,
                            static_cast<double>(w.activations()) * element_bytes(s.compute), p.gpu_memory_bytes);
    if (!std::isfinite(p.step_time_s) || !std::isfinite(p.memory_per_gpu_bytes) || !(p.step_time_s > 0)) {
      throw InputError("", "configuration", "", "the prediction overflows: inputs beyond the model's range");
    }
    return p;
  }
};

}  // namespace

std::unique_ptr<Predictor> make_alpha_beta_predictor() { return std::make_unique<AlphaBetaPredictor>(); }

}  // namespace bitscale
