// The timeline predictor: one training step as a task graph (model/timeline.hpp), scheduled on the compute
// stream, the codec stream (the compute stream itself unless --codec-stream own) and the communication stream.
//   forward          one task: the sum of the layers' roofline times (model/compute.hpp)
//   backward         one task per layer, in reverse layer order, 2x the layer's forward time
//   buckets          gradients grouped in backward order as PyTorch DDP does: a bucket closes once it holds at
//                    least its cap (the first bucket 1 MiB, the others --bucket, 25 MiB by default), so a
//                    layer that takes it past the cap closes it; a bucket is ready when its last layer's
//                    backward ends
//   per bucket       [absmax pass -> one-scalar allreduce (APS codecs)] -> encode -> allreduce (summable wire
//                    values; algorithm by the topology flow model, fastest unless forced) or gather
//                    (non-summable) -> decode (one) or (p-1) decode-and-accumulate (gathered); an allreduce in
//                    a format the profile's library sums slower than fp32 adds (p-1)/p x wire / its reduction
//                    rate ([reductions], model/compute.hpp reduction_seconds)
//   optimizer        on the compute stream after every bucket is done and the backward pass has ended
//   overlap none     the buckets' work waits for the end of the backward pass and runs one bucket after the
//                    other (no overlap at all: the step is compute + codec + communication)
// Step time = end of the optimizer; exposed communication = step - compute (forward + backward + optimizer)
// - pipeline bubble. Codec kernel times come from the profile's codec rates (model/compute.hpp codec_seconds).
// Contention (CPU ranks): compute runs at compute_during_comm of its speed while a collective runs and the
// collective at comm_during_compute of its own while compute runs (TaskGraph::contend), the pair measured for the
// wire format's collective where the profile has one ([contention.<format>]). A collective that finds the
// communication stream idle (its thread asleep) also costs the compute stream the profile's comm_launch_s when it
// is handed over (a launch task; CPU ranks on shared cores lose a scheduler slice to the woken thread).
//
// Parallelism (gpus = data x tensor x pipeline; tensor ranks innermost, as Megatron-LM places them):
//   tensor T     linear, attention, embedding, recurrent and conv layers hold 1/T of their parameters, FLOPs
//                and activations
//                (Shoeybi et al., arXiv 1909.08053); every second linear layer is row-parallel and ends in an
//                allreduce of its output activations over the T ranks, in the forward and (for its input
//                gradient) the backward pass; these block the compute stream
//   pipeline P   layers cut into P contiguous stages of about equal forward time; the slowest stage sets the
//                pace. The batch runs as m microbatches (1F1B or GPipe: the same bubble): the stage is busy
//                (m + P - 1)(f + b) + 2 (P - 1) s, with f, b its forward and backward time per microbatch and s
//                one activation send to the next stage (1/T of it per tensor rank); its gradients are final
//                during the last microbatch's backward, which the task graph models layer by layer
//   model-parallel fc   (Krizhevsky, arXiv 1404.5997, and the 8-bit paper's model parallelism) linear layers
//                split over the data-parallel ranks: no gradient exchange for them, but each gathers every rank's
//                input activations in the forward and exchanges as much in the backward, in the wire precision
//   data D       the gradients of this GPU's shard, in buckets as above, over the D ranks of its group (a node
//                holds min(D, g/T) of them); every GPU keeps its share of the node's NICs
// Speedup = throughput / throughput of one GPU holding the whole model at the same per-GPU batch.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

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
// `local[i]`: layer i's gradient stays on its GPU (a model-parallel shard).
std::vector<Bucket> make_buckets(const Workload& w, const std::vector<bool>& local, double first_cap, double cap) {
  std::vector<Bucket> out;
  Bucket b;
  bool open = false;
  for (auto i = static_cast<std::int32_t>(w.layers.size()) - 1; i >= 0; --i) {
    const auto& l = w.layers[static_cast<std::size_t>(i)];
    if (l.parameters == 0 || local[static_cast<std::size_t>(i)]) continue;
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

  Prediction p = describe(s, v.name, f.nodes);

  const std::int64_t T = s.tensor_parallel, P = s.pipeline_parallel, m = s.microbatches;
  const std::int64_t D = s.gpus / (T * P);
  const double eb = element_bytes(s.compute);
  const auto micro = static_cast<double>(s.batch / m);  // samples per microbatch
  p.tensor_parallel = T;
  p.pipeline_parallel = P;
  p.microbatches = m;
  p.data_parallel = D;

  // this GPU's share of the model: the slowest pipeline stage, its splittable layers divided over T ranks, its
  // linear layers over the D ranks with model-parallel fc
  const Workload* view = &w;
  Workload shard;
  std::size_t stage_first = 0;
  std::vector<double> tp_seconds(w.layers.size(), 0.0), mp_seconds(w.layers.size(), 0.0);
  std::vector<bool> local(w.layers.size(), false);
  double send_s = 0;
  const bool sharded = T > 1 || P > 1 || s.model_parallel_fc;
  if (sharded) {
    auto splittable = [](LayerKind k) {
      return k == LayerKind::linear || k == LayerKind::attention || k == LayerKind::embedding ||
             k == LayerKind::recurrent || k == LayerKind::conv;
    };
    std::vector<Layer> layers = w.layers;
    for (auto& l : layers) {
      if (T > 1 && splittable(l.kind)) {
        l.parameters = (l.parameters + T - 1) / T;
        l.forward_flops /= static_cast<double>(T);
        l.activations = (l.activations + T - 1) / T;
      }
      if (s.model_parallel_fc && l.kind == LayerKind::linear && D > 1) l.parameters = (l.parameters + D - 1) / D;
    }
    // stages: contiguous, cut where the running forward time passes k/P of the total
    std::vector<double> t(layers.size());
    double total = 0;
    for (std::size_t i = 0; i < layers.size(); ++i) total += t[i] = layer_forward_seconds(layers[i], c, s.compute, s.batch);
    std::size_t lo = 0, hi = layers.size();
    if (P > 1) {
      if (static_cast<std::int64_t>(layers.size()) < P) {
        throw InputError("", "--pipeline-parallel", std::to_string(P),
                         fmt::format("more stages than {} has layers ({})", w.name, layers.size()));
      }
      // cut after layer i once the running time passes the next k/P of the total, or when the layers left are
      // just enough for the stages left
      std::vector<std::size_t> cut{0};
      double run = 0;
      for (std::size_t i = 0; i + 1 < layers.size() && static_cast<std::int64_t>(cut.size()) < P; ++i) {
        run += t[i];
        const auto stages_left = static_cast<std::size_t>(P) - cut.size();
        if (run >= total * static_cast<double>(cut.size()) / static_cast<double>(P) ||
            layers.size() - (i + 1) == stages_left) {
          cut.push_back(i + 1);
        }
      }
      BITSCALE_CHECK(static_cast<std::int64_t>(cut.size()) == P) << cut.size() << " stages of " << P;
      cut.push_back(layers.size());
      double slowest = -1;
      for (std::size_t k = 0; k + 1 < cut.size(); ++k) {
        double st = 0;
        for (auto i = cut[k]; i < cut[k + 1]; ++i) st += t[i];
        if (st > slowest) {
          slowest = st;
          lo = cut[k];
          hi = cut[k + 1];
        }
      }
    }
    stage_first = lo;
    shard.name = w.name;
    shard.layers.assign(layers.begin() + static_cast<std::ptrdiff_t>(lo), layers.begin() + static_cast<std::ptrdiff_t>(hi));
    view = &shard;
    tp_seconds.assign(shard.layers.size(), 0.0);
    mp_seconds.assign(shard.layers.size(), 0.0);
    local.assign(shard.layers.size(), false);
    if (T > 1) {
      const Fabric tp = make_fabric(c, std::min(T, s.gpus));
      FlowCosts tp_costs(c, tp);
      // row-parallel layers alternate with column-parallel ones over the whole model, not per stage
      std::int64_t linear = 0;
      for (std::size_t i = 0; i < lo; ++i) linear += w.layers[i].kind == LayerKind::linear ? 1 : 0;
      for (std::size_t i = 0; i < shard.layers.size(); ++i) {
        if (shard.layers[i].kind != LayerKind::linear) continue;
        if (++linear % 2 == 0) {  // row-parallel: allreduce of its full output activations
          const double bytes = static_cast<double>(w.layers[lo + i].activations) * micro * eb;
          tp_seconds[i] = tp_costs.best_allreduce(bytes).seconds;
        }
      }
    }
    if (s.model_parallel_fc && D > 1) {
      const Fabric dp = make_fabric(c, D);
      FlowCosts mp_costs(c, dp);
      for (std::size_t i = 0; i < shard.layers.size(); ++i) {
        if (shard.layers[i].kind != LayerKind::linear) continue;
        const auto in = lo + i > 0 ? w.layers[lo + i - 1].activations : w.layers[lo + i].activations;
        const double values = static_cast<double>(in) * micro;
        mp_seconds[i] = mp_costs.seconds(fmt.wire_bytes(values), Algorithm::gather);
        local[i] = true;
      }
    }
    if (P > 1) {
      // the boundary activations of one microbatch, 1/T per tensor rank, to the next stage: another node when a
      // stage fills whole nodes
      const double bytes = static_cast<double>(w.layers[hi - 1].activations) * micro * eb / static_cast<double>(T);
      const bool across = s.gpus / P >= c.gpus_per_node;
      send_s = across ? c.inter_node_latency_us * 1e-6 + bytes / (c.inter_node_gbps_per_gpu() * 1e9 / 8)
                      : c.intra_node_latency_us * 1e-6 + bytes / (c.intra_node_gbps * 1e9 / 8);
    }
  }
  const Workload& vw = *view;

  // the data-parallel group: D ranks; every GPU keeps its share of the node's NICs
  ClusterProfile dp_cluster = c;
  if (T > 1 || P > 1) {
    // tensor ranks innermost, pipeline stages outermost: a node holds min(D, g/T) ranks of a data-parallel group
    const std::int64_t per_node = std::max<std::int64_t>(1, std::min(D, c.gpus_per_node / std::min(c.gpus_per_node, T)));
    const double per_gpu = c.inter_node_gbps_per_gpu();
    dp_cluster.gpus_per_node = per_node;
    dp_cluster.nics_per_node = std::min(c.nics_per_node, per_node);
    dp_cluster.nic_gbps = per_gpu * static_cast<double>(per_node) / static_cast<double>(dp_cluster.nics_per_node);
  }
  const ClusterProfile& cd = dp_cluster;
  const Fabric fd = make_fabric(cd, D);
  FlowCosts dp_costs(cd, fd);

  auto detail = std::make_shared<TimelineDetail>();
  detail->layer_offset = static_cast<std::int32_t>(stage_first);
  auto& g = detail->graph;
  const auto layers = static_cast<std::int32_t>(vw.layers.size());
  g.reserve(static_cast<std::size_t>(layers) + 8);

  // compute stream: forward (of every microbatch, with the pipeline's fill and drain), then the backward of the
  // last microbatch layer by layer in reverse order; with data-parallel ranks, at the pace of the slowest of them
  // (rank_skew): every collective waits for it
  std::vector<double> fwd(vw.layers.size());
  double forward = 0, blocking_fwd = 0, blocking_bwd = 0;
  const double pace = D > 1 ? 1.0 + c.rank_skew : 1.0;
  for (std::size_t i = 0; i < fwd.size(); ++i) {
    fwd[i] = pace * layer_forward_seconds(vw.layers[i], c, s.compute, s.batch / m);
    forward += fwd[i];
    blocking_fwd += tp_seconds[i] + mp_seconds[i];
    blocking_bwd += tp_seconds[i] + mp_seconds[i];
  }
  const double optimizer_s = optimizer_seconds(vw.parameters(), c, s.storage, s.optimizer);
  const double fm = static_cast<double>(m), fp = static_cast<double>(P);
  // busy time of the stage before its last microbatch's backward: (m + P - 1)(f + b) + 2(P - 1)s - b
  const double f_mb = forward + blocking_fwd, b_mb = 2.0 * forward + blocking_bwd;
  const double lead = (fm + fp - 1) * (f_mb + b_mb) + 2.0 * (fp - 1) * send_s - b_mb;
  if (!std::isfinite(lead) || !std::isfinite(b_mb) || lead < 0) {
    throw InputError("", "configuration", "", "the prediction overflows: inputs beyond the model's range");
  }
  p.tensor_comm_s = (fm + fp - 1) * 2.0 * std::accumulate(tp_seconds.begin(), tp_seconds.end(), 0.0);
  p.model_parallel_comm_s = (fm + fp - 1) * 2.0 * std::accumulate(mp_seconds.begin(), mp_seconds.end(), 0.0);
  p.pipeline_comm_s = 2.0 * (fp - 1) * send_s;
  std::vector<std::int32_t> backward_task(vw.layers.size());
  std::int32_t prev = g.add({TaskKind::forward, Stream::compute, lead, -1, -1, 1}, {});
  for (auto i = layers - 1; i >= 0; --i) {
    const auto u = static_cast<std::size_t>(i);
    prev = g.add({TaskKind::backward, Stream::compute, 2.0 * fwd[u] + tp_seconds[u] + mp_seconds[u], i, -1, 1}, {prev});
    backward_task[u] = prev;
  }
  const std::int32_t last_backward = prev;

  std::vector<std::int32_t> finals, comm_tasks;  // every bucket's last task and its collective
  // CPU ranks: handing a collective to the communication thread while it sleeps costs the compute stream the
  // profile's launch (a compute-stream task beside the collective, after the same tasks; its length is set once the
  // schedule shows which collectives find the communication stream idle)
  const double launch_s = D > 1 ? c.comm_launch_s : 0.0;
  std::vector<std::pair<std::int32_t, std::int32_t>> launches;  // (launch task, its collective)
  const auto add_comm = [&](const Task& t, std::initializer_list<std::int32_t> deps) {
    const auto id = g.add(t, deps);
    if (launch_s > 0) launches.emplace_back(g.add({TaskKind::launch, Stream::compute, 0.0, -1, t.bucket, 0}, deps), id);
    return id;
  };
  double comm_buffers = 0;
  p.algorithm = "none";
  if (D > 1) {
    const auto buckets = v.per_layer_messages
                             ? make_buckets(vw, local, 0, 0)
                             : make_buckets(vw, local, std::min(s.first_bucket_bytes, s.bucket_bytes), s.bucket_bytes);
    p.buckets = static_cast<std::int64_t>(buckets.size());
    const bool compressed = fmt.name != "fp32";
    const bool gathered = v.force_gather || !fmt.summable || (s.algorithm && *s.algorithm == Algorithm::gather);
    const bool no_overlap = v.after_backward || s.overlap == Overlap::none;
    std::int32_t step_scale = -1;  // APS per step: the exponents of every tensor in one allreduce(MAX)
    if (fmt.aps && v.scale_per_step) {
      const double grad = 4.0 * static_cast<double>(vw.parameters());
      const Stream codec = s.codec_stream == CodecStream::own ? Stream::codec : Stream::compute;
      const auto absmax = g.add({TaskKind::absmax, codec, absmax_seconds(c, grad), -1, -1, 0}, {last_backward});
      step_scale = add_comm({TaskKind::scale_allreduce, Stream::comm,
                             dp_costs.best_allreduce(4.0 * static_cast<double>(vw.parameter_tensors())).seconds,
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
        after = g.add({TaskKind::absmax, codec, absmax_seconds(c, bk.fp32_bytes), -1, bi, 0}, {after, extra});
        extra = after;
        after = add_comm({TaskKind::scale_allreduce, Stream::comm, dp_costs.best_allreduce(4.0).seconds, -1, bi, 0},
                         {after});
      }
      if (compressed) {
        const double encode = codec_seconds(c, fmt.name, bk.fp32_bytes, wire, CodecDirection::encode);
        after = g.add({TaskKind::encode, codec, encode, -1, bi, 0}, {after, extra});
        extra = after;
      }
      if (payload != memo_bytes) {
        memo_bytes = payload;
        if (gathered) {
          memo = {dp_costs.seconds(payload, Algorithm::gather), Algorithm::gather};
        } else if (s.algorithm) {
          memo = {dp_costs.seconds(payload, *s.algorithm), *s.algorithm};
        } else {
          memo = dp_costs.best_allreduce(payload);
        }
        // a format the library sums slower than fp32 (the link fit holds fp32's sums)
        if (!gathered) memo.seconds += reduction_seconds(c, fmt.name, payload, D);
      }
      after = add_comm({gathered ? TaskKind::gather : TaskKind::allreduce, Stream::comm, memo.seconds, -1, bi, 0},
                       {after, extra});
      comm_tasks.push_back(after);
      if (gathered) {
        const double decode_accumulate =
            codec_seconds(c, fmt.name, wire + bk.fp32_bytes, bk.fp32_bytes, CodecDirection::decode);
        after = g.add({TaskKind::decode, codec, static_cast<double>(D - 1) * decode_accumulate, -1, bi, 0}, {after});
      } else if (compressed) {
        const double decode = codec_seconds(c, fmt.name, wire, bk.fp32_bytes, CodecDirection::decode);
        after = g.add({TaskKind::decode, codec, decode, -1, bi, 0}, {after});
      }
      finals.push_back(after);
      p.wire_bytes_per_step += wire;
      if (bk.fp32_bytes >= largest) {
        largest = bk.fp32_bytes;
        p.algorithm = std::string(bitscale::name(memo.algorithm));
        comm_buffers = bk.fp32_bytes + wire * (gathered ? static_cast<double>(D) : 1.0);
      }
      detail->buckets.push_back({bk.first_layer, bk.last_layer, bk.fp32_bytes, wire, 0, 0, 0, 0,
                                 std::string(bitscale::name(memo.algorithm))});
    }
  }
  finals.push_back(last_backward);
  const std::int32_t optimizer = g.add({TaskKind::optimizer, Stream::compute, optimizer_s, -1, -1, 1}, finals);
  g.schedule();
  // launches: a collective that starts after the communication stream went idle (the first of the step, or one
  // whose tasks before it end after the previous collective did) wakes the sleeping thread; one queued behind
  // another does not. Charging them moves the schedule, so decided again until it holds (4 rounds at most: the
  // set of waking collectives only grows). Decided on the schedule before contention, and not again after it.
  // Every collective has its launch task (add_comm), so the launches in the order their collectives start are the
  // communication stream's order
  for (int round = 0; round < 4 && !launches.empty(); ++round) {
    std::sort(launches.begin(), launches.end(),
              [&](const auto& a, const auto& b) { return g[a.second].start_s < g[b.second].start_s; });
    double idle_from = -1;  // the end of the last collective so far
    bool changed = false;
    for (const auto& [launch, comm] : launches) {
      const double d = g[comm].start_s > idle_from ? launch_s : 0.0;
      idle_from = g[comm].end_s;
      if (d != g[launch].duration_s) {
        g.set_duration(launch, d);
        changed = true;
      }
    }
    if (!changed) break;
    g.schedule();
  }
  for (const auto& [launch, comm] : launches) p.launch_s += g[launch].duration_s;
  // contention: compute slowed while a collective runs and collectives while compute runs (the profile's measured
  // fractions for the wire format's collective, [contention.<format>], else [gpu]'s; 1 = none)
  double compute_stretch = 0;
  const auto contention = c.contention_for(fmt.name);
  if ((contention.compute_during_comm < 1 || contention.comm_during_compute < 1) && D > 1) {
    std::vector<double> base;
    base.reserve(g.tasks().size());
    for (const auto& t : g.tasks()) base.push_back(t.duration_s);
    g.contend(contention.compute_during_comm, contention.comm_during_compute);
    for (std::size_t i = 0; i < base.size(); ++i) {
      const auto& t = g.tasks()[i];
      if (t.kind == TaskKind::forward || t.kind == TaskKind::backward || t.kind == TaskKind::optimizer) {
        compute_stretch += t.duration_s - base[i];
      }
    }
  }

  p.forward_s = forward;
  p.optimizer_s = optimizer_s;
  double dp_comm = 0;
  for (const auto& t : g.tasks()) {
    switch (t.kind) {
      case TaskKind::absmax:
      case TaskKind::encode:
      case TaskKind::decode: p.codec_s += t.duration_s; break;
      case TaskKind::scale_allreduce:
      case TaskKind::allreduce:
      case TaskKind::gather: dp_comm += t.duration_s; break;
      default: break;
    }
  }
  p.forward_s = fm * forward;
  // the passes at the slowest rank's pace: (pace - 1) / pace of their forward and backward time
  p.skew_s = fm * 3.0 * forward * (pace - 1.0) / pace;
  // the stretch: backward kernels slowed by communication, and the compute time lost launching collectives
  p.contention_s = compute_stretch;
  p.backward_s = fm * 2.0 * forward + p.contention_s + p.launch_s;
  p.optimizer_s = optimizer_s;
  p.compute_s = p.forward_s + p.backward_s + p.optimizer_s;
  p.bubble_s = (fp - 1) * 3.0 * forward;
  const double blocking = p.tensor_comm_s + p.model_parallel_comm_s + p.pipeline_comm_s;
  p.comm_s = dp_comm + blocking;
  p.step_time_s = g[optimizer].end_s;
  p.exposed_comm_s = std::max(0.0, p.step_time_s - p.compute_s - p.bubble_s);  // not -0 from rounding
  p.step_time_no_overlap_s = p.compute_s + p.bubble_s + p.codec_s + p.comm_s;
  p.step_time_perfect_overlap_s =
      p.compute_s + p.bubble_s + blocking + std::max(p.codec_s, dp_comm - 2.0 * forward);

  // one GPU holding the whole model, the same batch per GPU
  const double one_gpu = sharded || m > 1 ? step_compute(w, c, s.compute, s.storage, s.optimizer, s.batch).total_s()
                                          : p.compute_s;
  const auto replicas = static_cast<double>(D);
  p.throughput_samples_per_s = replicas * static_cast<double>(s.batch) / p.step_time_s;
  p.speedup = replicas * one_gpu / p.step_time_s;
  p.efficiency = p.speedup / static_cast<double>(s.gpus);
  const auto fp32 = step_compute(w, c, ComputePrecision::fp32, StoragePolicy::fp32, s.optimizer, s.batch);
  p.speedup_vs_fp32_1gpu = replicas * fp32.total_s() / p.step_time_s;

  // memory: the shard's model state and buffers, and the activations of the microbatches in flight (1F1B keeps
  // up to P); tensor parallelism splits the activations of the layers it splits (norms stay whole)
  const double in_flight = static_cast<double>(std::min(m, P)) / fm;  // of the per-GPU batch
  const double per_sample = static_cast<double>(vw.activations()) * eb * in_flight;
  const double fixed = memory_per_gpu(vw, c, s.compute, s.storage, s.optimizer, 0, comm_buffers).total();
  p.memory_per_gpu_bytes = fixed + per_sample * static_cast<double>(s.batch);
  p.gpu_memory_bytes = gib(c.gpu_memory_gib);
  p.fits_in_memory = p.memory_per_gpu_bytes <= p.gpu_memory_bytes;
  p.max_batch = max_batch(fixed, per_sample, p.gpu_memory_bytes, m);
  if (!std::isfinite(p.step_time_s) || !std::isfinite(p.memory_per_gpu_bytes) || !(p.step_time_s > 0)) {
    throw InputError("", "configuration", "", "the prediction overflows: inputs beyond the model's range");
  }
  if (s.record_timeline) {
    for (std::size_t b = 0; b < detail->buckets.size(); ++b) {
      auto& bd = detail->buckets[b];
      const auto comm = comm_tasks[b];
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
