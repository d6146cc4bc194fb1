// bitscale CLI: argument parsing and dispatch only; the logic lives in the libraries.
#include "tools/cli.hpp"

#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <mutex>
#include <thread>
#include <cmath>
#include <memory>
#include <optional>
#include <sstream>

#include "kernels/cuda_device.hpp"
#include "kernels/input_error.hpp"
#include "kernels/wire_format.hpp"
#include "model/cluster.hpp"
#include "model/collectives.hpp"
#include "model/compute.hpp"
#include "model/memory.hpp"
#include "model/parse.hpp"
#include "model/topology_collectives.hpp"
#include "model/workload.hpp"
#include "predictors/predictor.hpp"
#include "predictors/uncertainty.hpp"
#include "tools/calibrate_command.hpp"
#include "tools/train_command.hpp"
#include "tools/validate_command.hpp"
#include "tools/codec_commands.hpp"
#include "tools/gemm_command.hpp"
#include "tools/html_report.hpp"
#include "tools/interrupt.hpp"
#include "tools/plan_command.hpp"
#include "tools/plot.hpp"
#include "tools/report.hpp"
#include "tools/trace.hpp"

namespace bitscale {

namespace {

constexpr double kMaxBandwidthGbps = 1e6;  // 1 Pbit/s
constexpr double kMaxBucketBytes = 1e12;
constexpr double kMaxCollectiveBytes = 1e15;
constexpr std::size_t kMaxConfigurations = 20'000'000;
constexpr const char* kVersion = "0.1.0";
constexpr const char* kDefaultGpus = "1,8,64,256,1024";
constexpr const char* kDefaultPrecisions = "fp32,fp16,bf16,fp8-e4m3,int8-block,dettmers8";

// Everything a prediction grid needs, as the user typed it; parsed after CLI11 so every message has one form.
struct GridOptions {
  std::string workload = "resnet50";
  std::string cluster = "dgx-a100";
  std::string gpus = kDefaultGpus;
  std::string precision = kDefaultPrecisions;
  std::string compute, storage, optimizer, batch, bandwidth;
  std::string bucket = "25MiB";
  std::string predictor = std::string(kDefaultPredictor);
  std::string algorithm;
  std::string overlap = "perfect";
  std::string format = "table";
  std::string out;
  std::string first_bucket = "1MiB";
  std::string codec_stream = "compute";
  std::string trace;
  std::string tensor_parallel = "1", pipeline_parallel = "1", microbatches;
  bool model_parallel_fc = false;
  std::string plot;
  std::string detail_gpus;  // report: the GPU count of the step drawn as a timeline
  bool explain = false;
  bool max_batch = false;
  bool resume = false;
  bool uncertainty = false;
};

void add_grid_options(CLI::App* cmd, GridOptions& o, bool lists) {
  cmd->add_option("--workload,-w", o.workload, "shipped name (see `workload list`), mlp:W0,W1,..., or a TOML file")
      ->capture_default_str();
  cmd->add_option("--cluster,-c", o.cluster, "shipped name (see `cluster list`) or a TOML profile")
      ->capture_default_str();
  cmd->add_option("--gpus,-g", o.gpus, lists ? "GPU counts: LIST such as 1,2,4..1024" : "GPU count")
      ->capture_default_str();
  cmd->add_option("--precision,-p", o.precision,
                  "gradient wire format(s): fp32, fp16, bf16, fp8-e4m3, fp8-e5m2, int8-block, dettmers8, eXmY")
      ->capture_default_str();
  cmd->add_option("--compute", o.compute, "compute precision(s): fp32, tf32, fp16, bf16, fp8 (default: the GPU's)");
  cmd->add_option("--storage", o.storage,
                  "weights and optimizer state: fp32, amp, standalone16, fp8 (default: from --compute)");
  cmd->add_option("--optimizer", o.optimizer, "sgd, momentum, adam (default: the workload's)");
  cmd->add_option("--batch,-b", o.batch, "samples per GPU per step, LIST (default: the workload's)");
  cmd->add_option("--bandwidth-gbps", o.bandwidth, "inter-node bandwidth per GPU in Gbit/s (LIST; default: profile)");
  cmd->add_option("--bucket", o.bucket, "gradient bucket size (fp32 bytes), e.g. 25MiB")->capture_default_str();
  cmd->add_option("--predictor", o.predictor, "predictor (see `bitscale predictors`)")->capture_default_str();
  cmd->add_option("--algorithm", o.algorithm,
                  "force the allreduce algorithm: ring, tree, halving-doubling, hierarchical, gather");
  cmd->add_option("--overlap", o.overlap,
                  "perfect: buckets communicate as soon as ready (alpha-beta: full overlap); none: after the backward "
                  "pass")
      ->capture_default_str();
  cmd->add_option("--first-bucket", o.first_bucket, "timeline: cap of the first bucket (DDP: 1 MiB)")
      ->capture_default_str();
  cmd->add_option("--codec-stream", o.codec_stream,
                  "timeline: codec kernels on the compute stream or on a stream of their own (compute, own)")
      ->capture_default_str();
  cmd->add_flag("--max-batch", o.max_batch, "predict at the largest batch per GPU that fits in GPU memory");
  cmd->add_option("--tensor-parallel", o.tensor_parallel, "timeline: tensor-parallel degree (Megatron-style)")
      ->capture_default_str();
  cmd->add_option("--pipeline-parallel", o.pipeline_parallel, "timeline: pipeline stages")->capture_default_str();
  cmd->add_option("--microbatches", o.microbatches,
                  "timeline: microbatches per step (default: 4 x pipeline stages, or 1; must divide --batch)");
  cmd->add_flag("--model-parallel-fc", o.model_parallel_fc,
                "timeline: split linear layers over the data-parallel GPUs, exchanging activations in the wire "
                "precision");
  cmd->add_flag("--uncertainty", o.uncertainty,
                "add each configuration's 90% interval of the step time and throughput, from the profile's stated "
                "uncertainty ([uncertainty]) sampled 64 times: +/- in tables, low and high columns in CSV and JSON");
  cmd->add_option("--out,-o", o.out, "write the output to this file (atomically) instead of stdout");
}

struct Grid {
  Workload workload;
  ClusterProfile cluster;
  std::vector<std::int64_t> gpus;
  std::vector<WireFormat> precisions;
  std::vector<ComputePrecision> computes;
  std::vector<std::optional<double>> bandwidths;
  std::optional<StoragePolicy> storage;
  Optimizer optimizer = Optimizer::momentum;
  std::vector<std::int64_t> batches;
  double bucket_bytes = kDefaultBucketBytes;
  std::optional<Algorithm> algorithm;
  Overlap overlap = Overlap::perfect;
  double first_bucket_bytes = kDefaultFirstBucketBytes;
  CodecStream codec_stream = CodecStream::compute;
  bool max_batch = false;
  bool record_timeline = false;
  std::int64_t tensor_parallel = 1, pipeline_parallel = 1;
  std::optional<std::int64_t> microbatches;
  bool model_parallel_fc = false;
  bool uncertainty = false;
  std::unique_ptr<Predictor> predictor;
};

// One configuration of the grid as a scenario, on `cluster` (the grid's profile with its bandwidth applied).
Scenario make_scenario(const Grid& g, const ClusterProfile& cluster, std::int64_t gpus, const WireFormat& precision,
                       ComputePrecision compute, std::int64_t batch) {
  Scenario s;
  s.workload = &g.workload;
  s.cluster = &cluster;
  s.gpus = gpus;
  s.precision = precision;
  s.compute = compute;
  s.storage = g.storage.value_or(default_storage(compute));
  s.optimizer = g.optimizer;
  s.batch = batch;
  s.bucket_bytes = g.bucket_bytes;
  s.algorithm = g.algorithm;
  s.overlap = g.overlap;
  s.first_bucket_bytes = g.first_bucket_bytes;
  s.codec_stream = g.codec_stream;
  s.record_timeline = g.record_timeline;
  s.tensor_parallel = g.tensor_parallel;
  s.pipeline_parallel = g.pipeline_parallel;
  s.microbatches = g.microbatches.value_or(g.pipeline_parallel > 1 ? 4 * g.pipeline_parallel : 1);
  s.model_parallel_fc = g.model_parallel_fc;
  return s;
}

std::size_t grid_size(const Grid& g) {
  return g.bandwidths.size() * g.computes.size() * g.precisions.size() * g.gpus.size() * g.batches.size();
}

Grid parse_grid(const GridOptions& o) {
  Grid g;
  g.predictor = make_predictor(o.predictor);
  g.workload = find_workload(o.workload);
  g.cluster = find_cluster(o.cluster);
  g.gpus = parse_int_list("--gpus", o.gpus, 1, kMaxGpus);
  for (const auto& p : parse_name_list("--precision", o.precision)) g.precisions.push_back(find_wire_format(p));
  if (o.compute.empty()) {
    g.computes.push_back(g.cluster.default_compute);
  } else {
    for (const auto& c : parse_name_list("--compute", o.compute)) g.computes.push_back(parse_compute_precision(c));
  }
  if (o.bandwidth.empty()) {
    g.bandwidths.push_back(std::nullopt);
  } else {
    for (double b : parse_positive_list("--bandwidth-gbps", o.bandwidth, kMaxBandwidthGbps)) g.bandwidths.push_back(b);
  }
  if (!o.storage.empty()) g.storage = parse_storage_policy(o.storage);
  g.optimizer = o.optimizer.empty() ? g.workload.default_optimizer : parse_optimizer(o.optimizer);
  g.batches = o.batch.empty() ? std::vector<std::int64_t>{g.workload.default_batch}
                              : parse_int_list("--batch", o.batch, 1, 1'000'000'000);
  g.bucket_bytes = parse_bytes("--bucket", o.bucket, kMaxBucketBytes);
  if (!o.algorithm.empty()) g.algorithm = parse_algorithm(o.algorithm);
  g.overlap = parse_overlap(o.overlap);
  g.first_bucket_bytes = parse_bytes("--first-bucket", o.first_bucket, kMaxBucketBytes);
  g.codec_stream = parse_codec_stream(o.codec_stream);
  g.max_batch = o.max_batch;
  g.tensor_parallel = parse_int("--tensor-parallel", o.tensor_parallel, 1, kMaxGpus);
  g.pipeline_parallel = parse_int("--pipeline-parallel", o.pipeline_parallel, 1, kMaxGpus);
  if (!o.microbatches.empty()) g.microbatches = parse_int("--microbatches", o.microbatches, 1, 1'000'000'000);
  g.model_parallel_fc = o.model_parallel_fc;
  g.uncertainty = o.uncertainty || o.explain;
  if ((g.tensor_parallel > 1 || g.pipeline_parallel > 1 || g.microbatches || g.model_parallel_fc) &&
      o.predictor == "alpha-beta") {
    throw InputError("", "--predictor", o.predictor,
                     "models data parallelism only; tensor, pipeline and model parallelism need the timeline");
  }
  if (o.max_batch && !o.batch.empty()) throw InputError("", "--max-batch", "", "goes without --batch");
  const std::size_t size = grid_size(g);
  if (size > kMaxConfigurations) {
    throw InputError("", "configurations", std::to_string(size),
                     fmt::format("more than {} in one grid: split it into several sweeps", kMaxConfigurations));
  }
  return g;
}

// The predictions of configurations [first, last) of the grid (all by default), computed before anything is
// written (a bad combination writes nothing), on every core: configuration i goes to row i - first whatever
// thread computes it. Progress on a terminal for long grids. When *stop turns true the workers stop early and
// the rows are incomplete: the caller discards them.
std::vector<Prediction> run_grid(const Grid& g, std::ostream& err, bool progress, std::size_t first = 0,
                                 std::size_t last = SIZE_MAX, const std::atomic<bool>* stop = nullptr) {
  std::vector<ClusterProfile> clusters;
  for (const auto& bw : g.bandwidths) {
    clusters.push_back(g.cluster);
    if (bw) clusters.back().set_inter_node_gbps_per_gpu(*bw);
  }
  const std::size_t n_gpus = g.gpus.size(), n_batch = g.batches.size(), n_prec = g.precisions.size(),
                    n_comp = g.computes.size();
  const std::size_t size = grid_size(g);
  last = std::min(last, size);
  const std::size_t total = last > first ? last - first : 0;
  std::vector<Prediction> out(total);
  auto one = [&](std::size_t i) {
    std::size_t r = first + i;
    const auto batch = g.batches[r % n_batch];
    r /= n_batch;
    const auto gpus = g.gpus[r % n_gpus];
    r /= n_gpus;
    const auto& precision = g.precisions[r % n_prec];
    r /= n_prec;
    const auto compute = g.computes[r % n_comp];
    const auto& cluster = clusters[r / n_comp];
    Scenario s = make_scenario(g, cluster, gpus, precision, compute, batch);
    auto p = g.predictor->predict(s);
    if (g.max_batch) {
      if (p.max_batch < 1) {
        throw InputError("", "--max-batch", "",
                         fmt::format("not even one sample per GPU fits: {:.2f} GiB needed at batch 1, the GPU has "
                                     "{:g} GiB", p.memory_per_gpu_bytes / gib(1), cluster.gpu_memory_gib));
      }
      s.batch = p.max_batch;
      p = g.predictor->predict(s);
    }
    if (g.uncertainty) add_interval(p, *g.predictor, s);
    out[i] = std::move(p);
  };
  const std::size_t threads =
      total < 256 ? 1 : std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), 64);
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::size_t error_at = total;  // the first failing configuration's index: the same message whatever the timing
  std::mutex error_mutex;
  auto worker = [&] {
    constexpr std::size_t kChunk = 256;
    while (!failed && !(stop != nullptr && stop->load())) {
      const std::size_t begin = next.fetch_add(kChunk);
      if (begin >= total) return;
      std::size_t i = begin;
      try {
        for (; i < std::min(total, begin + kChunk); ++i) one(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (i < error_at) {
          error = std::current_exception();
          error_at = i;
        }
        failed = true;
        return;
      }
      done += std::min(total, begin + kChunk) - begin;
    }
  };
  std::vector<std::thread> pool;
  try {
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  } catch (const std::system_error&) {
    // no more threads: the ones started and this one finish the grid
  }
  if (progress && total >= 100'000) {
    // the main thread reports while the others work, then joins in
    std::thread reporter([&] {
      while (done < total && !failed && !(stop != nullptr && stop->load())) {
        err << fmt::format("\rbitscale: {}/{} configurations ({:.0f}%)", done.load(), total,
                           100.0 * static_cast<double>(done.load()) / static_cast<double>(total))
            << std::flush;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
      err << "\r" << std::string(60, ' ') << "\r" << std::flush;
    });
    worker();
    for (auto& t : pool) t.join();
    reporter.join();
  } else {
    worker();
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
  return out;
}

void emit(const std::string& text, const std::string& path, std::ostream& out, std::ostream& err,
          std::size_t rows) {
  if (path.empty()) {
    out << text;
    return;
  }
  write_file_atomically(path, text, "--out");
  err << fmt::format("bitscale: wrote {} row{} to {}\n", rows, rows == 1 ? "" : "s", path);
}

std::string render_predictions(const std::vector<Prediction>& rows, Format format) {
  std::ostringstream text;
  if (format == Format::table) {
    if (rows.size() == 1) {
      write_prediction_table(text, rows.front());
    } else {
      write_predictions_table(text, rows);
    }
    return text.str();
  }
  std::vector<std::vector<Field>> fields;
  fields.reserve(rows.size());
  for (const auto& p : rows) fields.push_back(prediction_fields(p));
  if (format == Format::json) {
    write_json(text, fields);
  } else {
    write_csv(text, fields);
  }
  return text.str();
}

// --explain: where the step time of one configuration comes from, with the model's intermediate figures.
std::string explain(const Grid& g, const Prediction& p) {
  ClusterProfile cluster = g.cluster;
  if (g.bandwidths.front()) cluster.set_inter_node_gbps_per_gpu(*g.bandwidths.front());
  const auto compute = g.computes.front();
  const auto& wire = g.precisions.front();
  const Fabric f = make_fabric(cluster, p.gpus);
  std::ostringstream o;
  o << fmt::format("\nHow the {} predictor got there\n", p.predictor);
  o << fmt::format("  fabric      {} node{} x {} GPUs; in a node {:g} GB/s per GPU, {:g} us per step; network {:g} GB/s "
                   "per GPU ({:g} GB/s per node), {:g} us per step\n",
                   f.nodes, f.nodes == 1 ? "" : "s", f.ranks_per_node, f.intra_bytes_per_s / 1e9,
                   cluster.intra_node_latency_us, f.inter_bytes_per_s_per_gpu / 1e9,
                   f.inter_bytes_per_s_per_gpu * static_cast<double>(f.ranks_per_node) / 1e9,
                   cluster.inter_node_latency_us);
  if (p.tensor_parallel > 1 || p.pipeline_parallel > 1 || p.microbatches > 1 || p.model_parallel_comm_s > 0) {
    o << fmt::format("  parallel    {} GPUs = data {} x tensor {} x pipeline {}; {} microbatch{} of {} samples; per step "
                     "the pipeline bubble {:.3f} ms, tensor allreduces {:.3f} ms, stage-to-stage sends {:.3f} ms, "
                     "model-parallel activation exchange {:.3f} ms (the figures below are of this GPU's shard)\n",
                     p.gpus, p.data_parallel, p.tensor_parallel, p.pipeline_parallel, p.microbatches,
                     p.microbatches == 1 ? "" : "es", p.batch / p.microbatches, p.bubble_s * 1e3,
                     p.tensor_comm_s * 1e3, p.pipeline_comm_s * 1e3, p.model_parallel_comm_s * 1e3);
  }
  const double grad = 4.0 * static_cast<double>(g.workload.parameters());
  o << fmt::format("  gradient    {} values = {:.2f} MB in fp32, {:.2f} MB as {} ({:.3f} bits/value{})\n",
                   group_digits(g.workload.parameters()), grad / 1e6, wire.wire_bytes(grad / 4) / 1e6, wire.name,
                   wire.bits_per_value(), wire.summable ? ", summed on the wire" : ", gathered: not summable");
  if (p.gpus > 1) {
    const double bucket = std::min(g.bucket_bytes, grad);
    const double bucket_wire = wire.wire_bytes(bucket / 4);
    o << fmt::format("  buckets     {} of up to {:.2f} MiB (fp32); one full bucket is {:.2f} MB on the wire\n", p.buckets,
                     g.bucket_bytes / 1048576.0, bucket_wire / 1e6);
    const double payload = bucket_wire - wire.bucket_scale_bytes;
    const bool flows = p.predictor != "alpha-beta";
    auto seconds = [&](Algorithm a) {
      return flows ? topology_collective_seconds(cluster, f, payload, a)
                   : (a == Algorithm::gather ? gather_reduce(f, payload).seconds : allreduce_seconds(f, payload, a));
    };
    o << (flows ? "  one bucket  (flows on the topology graph) " : "  one bucket  ");
    if (p.data_parallel != p.gpus) {
      o << fmt::format("over the {} data-parallel ranks of a group: see the timeline below", p.data_parallel);
    } else if (p.algorithm != "gather") {
      for (auto a : allreduce_algorithms()) {
        const bool runs = (f.allreduce_mask & (1u << static_cast<unsigned>(a))) != 0;
        o << fmt::format("{} {:.3f} ms{}  ", name(a), seconds(a) * 1e3,
                         std::string(name(a)) == p.algorithm ? " (chosen)" : (runs ? "" : " (not in " + cluster.collective_library + ")"));
      }
    } else {
      o << fmt::format("gather (allgather of {} compressed copies) {:.3f} ms", p.gpus, seconds(Algorithm::gather) * 1e3);
    }
    o << "\n";
  }
  std::array<double, kLayerKindCount> by_kind{};
  double forward = 0;
  for (const auto& l : g.workload.layers) {
    const double t = layer_forward_seconds(l, cluster, compute, p.batch);
    by_kind[static_cast<std::size_t>(l.kind)] += t;
    forward += t;
  }
  o << "  forward     ";
  for (int k = 0; k < kLayerKindCount; ++k) {
    if (by_kind[k] > 0) o << fmt::format("{} {:.1f}%  ", name(static_cast<LayerKind>(k)), 100.0 * by_kind[k] / forward);
  }
  o << fmt::format("(roofline at {} peak {:g} TFLOP/s, {:g} GB/s memory)\n", name(compute),
                   cluster.peak_tflops[static_cast<std::size_t>(compute)], cluster.hbm_gbyte_per_s);
  std::string backward_parts = "2 x forward";
  if (p.contention_s > 0) backward_parts += fmt::format(" + {:.3f} slowed beside collectives", p.contention_s * 1e3);
  if (p.launch_s > 0) backward_parts += fmt::format(" + {:.3f} launching them", p.launch_s * 1e3);
  o << fmt::format("  step        compute {:.3f} ms = forward {:.3f} + backward {:.3f} ({}) + optimizer {:.3f}\n",
                   p.compute_s * 1e3, p.forward_s * 1e3, p.backward_s * 1e3, backward_parts, p.optimizer_s * 1e3);
  o << fmt::format("              no overlap: compute + codec {:.3f} + comm {:.3f} = {:.3f} ms\n", p.codec_s * 1e3,
                   p.comm_s * 1e3, p.step_time_no_overlap_s * 1e3);
  o << fmt::format("              perfect overlap: forward + optimizer + max(backward + codec, comm) = {:.3f} ms\n",
                   p.step_time_perfect_overlap_s * 1e3);
  if (p.max_batch > 0) {
    o << fmt::format("  memory      {:.2f} GiB of {:.2f} GiB per GPU; the largest batch that fits is {}\n",
                     p.memory_per_gpu_bytes / gib(1), p.gpu_memory_bytes / gib(1), p.max_batch);
  }
  // what moves the step time: elasticities, and how sure it is
  const Scenario s = make_scenario(g, cluster, p.gpus, wire, compute, p.batch);
  o << "\nSensitivity: d log(step time) / d log(parameter), +-5% central differences; +1% of the parameter moves the "
       "step time by this many %\n";
  for (const auto& e : elasticities(*g.predictor, s)) {
    o << fmt::format("  {:<18} {:+.3f}\n", e.parameter, e.value);
  }
  const auto& u = cluster.uncertainty;
  if (u.stated()) {
    o << fmt::format("\nUncertainty stated by the profile (one standard deviation, relative): compute {:.0f}%, memory "
                     "bandwidth {:.0f}%, codecs {:.0f}%, node links {:.0f}% / latency {:.0f}%, network {:.0f}% / latency "
                     "{:.0f}%; 64 draws give the 90% interval of the step time {:.3f} .. {:.3f} ms\n",
                     100 * u.compute, 100 * u.memory_bandwidth, 100 * u.codecs, 100 * u.node_bandwidth,
                     100 * u.node_latency, 100 * u.network_bandwidth, 100 * u.network_latency,
                     p.step_time_low_s * 1e3, p.step_time_high_s * 1e3);
    const auto it = cluster.sources.find("uncertainty");
    if (it != cluster.sources.end()) o << "  source: " << it->second << "\n";
  } else {
    o << "\nUncertainty: the profile states none ([uncertainty]), so the prediction has no interval\n";
  }
  return o.str();
}

// sweep --out FILE.csv: rows go to FILE.csv.partial chunk by chunk (whole rows, flushed), beside a
// FILE.csv.partial.meta naming the grid; the finished file is renamed into place. Ctrl-C (SIGINT) or SIGTERM
// stops after the rows already written and exits 130; --resume continues the same grid from the partial file.
std::string grid_fingerprint(const GridOptions& o, const Grid& g) {
  std::string layers;
  for (const auto& l : g.workload.layers) {
    layers += fmt::format("{} {} {} {:.17g} {} {}\n", l.name, name(l.kind), l.parameters, l.forward_flops,
                          l.activations, l.parameter_tensors);
  }
  return fmt::format(
      "bitscale {} sweep\nworkload={}\n{}cluster={}\n{}\ngpus={}\nprecision={}\ncompute={}\nstorage={}\n"
      "optimizer={}\nbatch={}\nbandwidth={}\nbucket={}\nfirst_bucket={}\npredictor={}\nalgorithm={}\noverlap={}\n"
      "codec_stream={}\ntensor={}\npipeline={}\nmicrobatches={}\nmodel_parallel_fc={}\nmax_batch={}\nuncertainty={}\n",
      kVersion, o.workload, layers, o.cluster, to_toml(g.cluster), o.gpus, o.precision, o.compute, o.storage,
      o.optimizer, o.batch, o.bandwidth, o.bucket, o.first_bucket, o.predictor, o.algorithm, o.overlap,
      o.codec_stream, o.tensor_parallel, o.pipeline_parallel, o.microbatches, o.model_parallel_fc, o.max_batch,
      o.uncertainty);
}

int sweep_to_file(const Grid& grid, const GridOptions& o, std::ostream& err) {
  namespace fs = std::filesystem;
  check_output_path(o.out, "--out");
  const std::string partial = o.out + ".partial", meta = partial + ".meta";
  const auto fingerprint = grid_fingerprint(o, grid);
  const std::size_t total = grid_size(grid);
  std::ostringstream header;
  write_predictions_csv_header(header, grid.uncertainty);
  std::size_t done = 0;
  std::error_code ec;
  if (o.resume && !fs::exists(partial, ec)) {
    err << fmt::format("bitscale: no {} to resume: starting the sweep\n", partial);
  }
  if (o.resume && fs::exists(partial, ec)) {
    if (!fs::exists(meta, ec)) {
      throw InputError("", "--resume", partial, "has no " + meta + " naming its sweep: remove it and start over");
    }
    std::ifstream m(meta, std::ios::binary);
    const std::string saved((std::istreambuf_iterator<char>(m)), std::istreambuf_iterator<char>());
    if (saved != fingerprint) {
      throw InputError("", "--resume", partial,
                       "was written by a different sweep (other options, workload or profile): remove it or run that "
                       "sweep again");
    }
    std::ifstream in(partial, std::ios::binary);
    std::string line, first_line;
    std::uint64_t whole = 0;  // bytes of whole lines
    std::size_t lines = 0;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a last line without its newline: cut off by the interruption
      if (lines == 0) first_line = line + "\n";
      whole += line.size() + 1;
      ++lines;
    }
    if (lines == 0 || first_line != header.str()) {
      throw InputError("", "--resume", partial, "is not a partial sweep of this version (its header differs)");
    }
    fs::resize_file(partial, whole, ec);
    if (ec) throw InputError("", "--resume", partial, "cannot be trimmed to its whole rows: " + ec.message());
    done = std::min(lines - 1, total);
    err << fmt::format("bitscale: resuming {} at configuration {} of {}\n", partial, done, total);
  } else {
    std::ofstream m(meta, std::ios::binary | std::ios::trunc);
    m << fingerprint;
    m.close();
    std::ofstream p(partial, std::ios::binary | std::ios::trunc);
    p << header.str();
    p.close();
    if (!m || !p) {
      fs::remove(partial, ec);
      fs::remove(meta, ec);
      throw InputError("", "--out", o.out, "cannot create " + partial + " and " + meta);
    }
  }
  std::ofstream file(partial, std::ios::binary | std::ios::app);
  if (!file) throw InputError("", "--out", o.out, "cannot append to " + partial);

  const InterruptGuard guard;

  const bool tty = ::isatty(STDERR_FILENO) == 1;
  std::size_t chunk_rows = 65536;  // rows computed and written at a time: an interruption keeps whole chunks
  // tests only: BITSCALE_TEST_INTERRUPT_AFTER_ROWS=N, the process sends itself SIGINT once N rows are written;
  // BITSCALE_TEST_CHUNK_ROWS=N, chunks of N rows (a small grid then has several)
  std::size_t interrupt_after = 0;
  if (const char* v = std::getenv("BITSCALE_TEST_INTERRUPT_AFTER_ROWS")) interrupt_after = std::strtoull(v, nullptr, 10);
  if (const char* v = std::getenv("BITSCALE_TEST_CHUNK_ROWS")) chunk_rows = std::max<std::size_t>(1, std::strtoull(v, nullptr, 10));
  try {
    while (done < total && !InterruptGuard::interrupted()) {
      const std::size_t last = std::min(total, done + chunk_rows);
      const auto rows = run_grid(grid, err, false, done, last, InterruptGuard::flag());
      if (InterruptGuard::interrupted()) break;  // an incomplete chunk is dropped: the file holds whole chunks only
      write_predictions_csv(file, rows, false);
      file.flush();
      if (!file) throw InputError("", "--out", o.out, "writing " + partial + " failed (disk full?)");
      done = last;
      if (interrupt_after > 0 && done >= interrupt_after) ::raise(SIGINT);  // tests: a real signal, at a known row
      if (tty) {
        err << fmt::format("\rbitscale: {}/{} configurations ({:.0f}%)", done, total,
                           100.0 * static_cast<double>(done) / static_cast<double>(total))
            << std::flush;
      }
    }
  } catch (...) {
    // bad input found mid-grid: this grid can never finish, so nothing of it is left behind
    file.close();
    fs::remove(partial, ec);
    fs::remove(meta, ec);
    throw;
  }
  if (tty) err << "\r" << std::string(60, ' ') << "\r";
  file.close();
  if (done < total) {
    err << fmt::format("bitscale: interrupted: {} of {} rows are in {}; the same command with --resume finishes "
                       "it\n", done, total, partial);
    return InterruptGuard::exit_code();  // 130 for Ctrl-C, 143 for SIGTERM
  }
  fs::rename(partial, o.out, ec);
  if (ec) throw InputError("", "--out", o.out, "cannot rename the finished file into place: " + ec.message());
  fs::remove(meta, ec);
  err << fmt::format("bitscale: wrote {} row{} to {}\n", total, total == 1 ? "" : "s", o.out);
  return 0;
}

int cmd_predict(const GridOptions& o, std::ostream& out, std::ostream& err) {
  const auto format = parse_format(o.format);
  auto grid = parse_grid(o);
  grid.record_timeline = o.explain || !o.trace.empty();
  if (!o.trace.empty() && o.predictor == "alpha-beta") {
    throw InputError("", "--trace", o.trace, "needs a predictor that simulates the step (timeline, dettmers2015, aps)");
  }
  const std::size_t configurations = grid_size(grid);
  for (const auto* flag : {o.explain ? "--explain" : nullptr, o.trace.empty() ? nullptr : "--trace"}) {
    if (flag != nullptr && configurations != 1) {
      throw InputError("", flag, "", "needs one configuration (a single --gpus, --precision, --compute, --batch "
                                     "and --bandwidth-gbps value)");
    }
  }
  if (o.resume && (o.out.empty() || format != Format::csv)) {
    throw InputError("", "--resume", "", "goes with --out FILE.csv (and --format csv)");
  }
  if (o.explain && format != Format::table) throw InputError("", "--explain", "", "goes with --format table");
  if (!o.plot.empty()) {
    check_output_path(o.plot, "--plot");
    constexpr std::size_t kMaxPlotted = 100'000;
    if (configurations > kMaxPlotted) {
      throw InputError("", "--plot", o.plot,
                       fmt::format("plots at most {} configurations ({} asked): narrow the lists", kMaxPlotted,
                                   configurations));
    }
    if (o.resume) throw InputError("", "--plot", o.plot, "goes without --resume (a plot needs every row at once)");
  }
  if (format == Format::csv && !o.out.empty() && o.explain == false && o.trace.empty() && o.plot.empty()) {
    return sweep_to_file(grid, o, err);
  }
  const auto rows = run_grid(grid, err, ::isatty(STDERR_FILENO) == 1);
  if (!o.plot.empty()) {
    write_file_atomically(o.plot, speedup_svg(rows), "--plot");
    err << fmt::format("bitscale: wrote the speedup plot ({} series) to {}\n", speedup_series(rows).size(), o.plot);
  }
  auto write_trace = [&] {
    if (o.trace.empty()) return;
    write_file_atomically(o.trace, chrome_trace_json(rows.front(), grid.workload), "--trace");
    err << fmt::format("bitscale: wrote the timeline of one step ({} events) to {}\n",
                       rows.front().timeline->graph.tasks().size(), o.trace);
  };
  if (format == Format::csv) {  // streamed: a sweep may hold millions of rows
    if (o.out.empty()) {
      write_predictions_csv(out, rows);
    } else {
      write_file_atomically(o.out, "--out", [&](std::ostream& file) { write_predictions_csv(file, rows); });
      err << fmt::format("bitscale: wrote {} row{} to {}\n", rows.size(), rows.size() == 1 ? "" : "s", o.out);
    }
    write_trace();
    return 0;
  }
  auto text = render_predictions(rows, format);
  if (o.explain) {
    text += explain(grid, rows.front());
    if (rows.front().timeline) text += timeline_text(rows.front(), grid.workload);
  }
  write_trace();
  emit(text, o.out, out, err, rows.size());
  return 0;
}

int cmd_report(const GridOptions& o, const std::vector<std::string>& args, std::ostream& err) {
  if (o.out.empty()) throw InputError("", "--out", "", "names the HTML file to write (e.g. --out report.html)");
  check_output_path(o.out, "--out");
  auto grid = parse_grid(o);
  grid.uncertainty = true;
  constexpr std::size_t kMaxRows = 5000;
  if (grid_size(grid) > kMaxRows) {
    throw InputError("", "configurations", std::to_string(grid_size(grid)),
                     fmt::format("more than {} rows for one report: narrow the lists", kMaxRows));
  }
  const auto rows = run_grid(grid, err, false);
  // the step drawn: the first precision, compute, bandwidth and batch at --detail-gpus (default: the most GPUs)
  const auto gpus = o.detail_gpus.empty() ? *std::max_element(grid.gpus.begin(), grid.gpus.end())
                                          : parse_int("--detail-gpus", o.detail_gpus, 1, kMaxGpus);
  ClusterProfile cluster = grid.cluster;
  if (grid.bandwidths.front()) cluster.set_inter_node_gbps_per_gpu(*grid.bandwidths.front());
  Scenario s = make_scenario(grid, cluster, gpus, grid.precisions.front(), grid.computes.front(), grid.batches.front());
  if (grid.max_batch) s.batch = std::max<std::int64_t>(1, grid.predictor->predict(s).max_batch);
  s.record_timeline = true;
  ReportInput in;
  in.detail = grid.predictor->predict(s);
  add_interval(in.detail, *grid.predictor, s);
  in.sensitivity = elasticities(*grid.predictor, s);
  in.rows = rows;
  in.workload = &grid.workload;
  in.cluster = &grid.cluster;
  in.command = "bitscale";
  for (const auto& a : args) in.command += " " + a;
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  in.date = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                        utc.tm_min);
  write_file_atomically(o.out, html_report(in), "--out");
  err << fmt::format("bitscale: wrote the report ({} configurations, the step of {} GPUs) to {}\n", rows.size(), gpus,
                     o.out);
  return 0;
}

struct CollectiveOptions {
  std::string cluster = "dgx-a100", op = "allreduce", bytes, gpus, precision = "fp32", algorithm, bandwidth;
  std::string format = "table";
};

int cmd_collective(const CollectiveOptions& o, std::ostream& out) {
  const auto format = parse_format(o.format);
  auto cluster = find_cluster(o.cluster);
  const auto op = parse_collective_op(o.op);
  const double bytes = parse_bytes("--bytes", o.bytes, kMaxCollectiveBytes);
  if (bytes != std::floor(bytes)) throw InputError("", "--bytes", o.bytes, "must be a whole number of bytes");
  const auto gpus = parse_int("--gpus", o.gpus, 1, kMaxGpus);
  const auto wire = find_wire_format(o.precision);
  std::optional<Algorithm> forced;
  if (!o.algorithm.empty()) forced = parse_algorithm(o.algorithm);
  if (!o.bandwidth.empty()) cluster.set_inter_node_gbps_per_gpu(parse_positive("--bandwidth-gbps", o.bandwidth, kMaxBandwidthGbps));
  const auto fabric = make_fabric(cluster, gpus);
  // --bytes is the buffer in the precision's values (nccl-tests "size"); block formats add their scales
  const double values = bytes * 8.0 / wire.value_bits;
  const double wire_bytes = wire.wire_bytes(values) - wire.bucket_scale_bytes;
  auto r = run_collective(fabric, op, bytes, wire_bytes, wire.summable, forced ? &*forced : nullptr);
  // a format the library sums slower than fp32: each rank adds (p-1)/p of the buffer ([reductions])
  if (wire.summable && (op == CollectiveOp::allreduce || op == CollectiveOp::reduce_scatter)) {
    const double plain = r.seconds;
    r.seconds += reduction_seconds(cluster, wire.name, wire_bytes, gpus);
    r.algbw_gbyte_per_s *= plain / r.seconds;
    r.busbw_gbyte_per_s *= plain / r.seconds;
  }
  std::vector<Field> row = {
      {"op", std::string(name(op))},
      {"bytes", static_cast<std::int64_t>(bytes)},
      {"wire_bytes", wire_bytes},
      {"gpus", gpus},
      {"nodes", fabric.nodes},
      {"cluster", cluster.name},
      {"precision", wire.name},
      {"bandwidth_gbps", cluster.inter_node_gbps_per_gpu()},
      {"time_s", r.seconds},
      {"algbw_gbps", r.algbw_gbyte_per_s},
      {"busbw_gbps", r.busbw_gbyte_per_s},
      {"algorithm", std::string(name(r.algorithm))},
  };
  std::vector<std::vector<Field>> rows{row};
  if (format == Format::json) {
    write_json(out, rows);
  } else if (format == Format::csv) {
    write_csv(out, rows);
  } else {
    out << fmt::format("{} of {:.0f} bytes ({}, {:.0f} on the wire) on {} GPUs of {} ({} node{})\n", name(op), bytes,
                       wire.name, wire_bytes, gpus, cluster.name, fabric.nodes, fabric.nodes == 1 ? "" : "s");
    out << fmt::format("  time       {:.3f} us\n  algbw      {:.3f} GB/s\n  busbw      {:.3f} GB/s\n  algorithm  {}\n",
                       r.seconds * 1e6, r.algbw_gbyte_per_s, r.busbw_gbyte_per_s, name(r.algorithm));
  }
  return 0;
}

int cmd_workload_list(std::ostream& out) {
  out << fmt::format("{:<14} {:>15} {:>16} {:>6}  {}\n", "name", "parameters", "GFLOP/sample fwd", "batch", "summary");
  for (const auto& info : workload_table()) {
    const auto w = info.build();
    out << fmt::format("{:<14} {:>15} {:>16.3f} {:>6}  {}\n", info.name, group_digits(w.parameters()), w.forward_flops() / 1e9,
                       w.default_batch, info.summary);
  }
  out << "Also: mlp:W0,W1,... for any widths, or a path to a TOML workload (see data/workloads/example-mlp.toml).\n";
  return 0;
}

int cmd_workload_show(const std::string& name_or_path, const std::string& format_text, std::ostream& out) {
  const auto format = parse_format(format_text);
  const auto w = find_workload(name_or_path);
  std::vector<std::vector<Field>> rows;
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const auto& l = w.layers[i];
    rows.push_back({{"index", static_cast<std::int64_t>(i)},
                    {"name", l.name},
                    {"kind", std::string(name(l.kind))},
                    {"parameters", l.parameters},
                    {"forward_flops", l.forward_flops},
                    {"activations", l.activations}});
  }
  if (format == Format::csv) {
    write_csv(out, rows);
    return 0;
  }
  if (format == Format::json) {
    write_json(out, rows);
    return 0;
  }
  out << fmt::format("{}: {}\n  source: {}\n  one sample: {}; default batch {} per GPU; optimizer {}\n", w.name,
                     w.description, w.source, w.sample, w.default_batch, name(w.default_optimizer));
  out << fmt::format("{:>5} {:<40} {:<10} {:>14} {:>14} {:>14}\n", "#", "layer", "kind", "parameters",
                     "fwd FLOP/sample", "activations");
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const auto& l = w.layers[i];
    out << fmt::format("{:>5} {:<40} {:<10} {:>14} {:>14.4g} {:>14}\n", i, l.name, name(l.kind), group_digits(l.parameters),
                       l.forward_flops, group_digits(l.activations));
  }
  out << fmt::format("total: {} parameters, {:.4g} forward FLOPs per sample, {} activation elements per sample\n",
                     group_digits(w.parameters()), w.forward_flops(), group_digits(w.activations()));
  return 0;
}

int cmd_cluster_list(std::ostream& out) {
  out << fmt::format("{:<16} {:<16} {:>9} {:>14} {:>18}  {}\n", "name", "gpu", "gpus/node", "intra Gb/s/GPU",
                     "inter Gb/s/GPU", "description");
  for (auto n : shipped_cluster_names()) {
    const auto c = find_cluster(n);
    out << fmt::format("{:<16} {:<16} {:>9} {:>14g} {:>18g}  {}\n", c.name, c.gpu_model, c.gpus_per_node,
                       c.intra_node_gbps, c.inter_node_gbps_per_gpu(), c.description);
  }
  out << "Also: a path to a TOML profile in the same format (see `bitscale cluster show dgx-a100`).\n";
  return 0;
}

int cmd_cluster_show(const std::string& name_or_path, std::ostream& out) {
  const auto c = find_cluster(name_or_path);
  out << fmt::format("{}: {}\n", c.name, c.description);
  out << fmt::format("  gpu                {} ({:g} GiB, {:g} GB/s memory), default compute {}\n", c.gpu_model,
                     c.gpu_memory_gib, c.hbm_gbyte_per_s, name(c.default_compute));
  std::string peaks;
  for (int p = 0; p < kComputePrecisionCount; ++p) {
    const auto cp = static_cast<ComputePrecision>(p);
    if (c.supports(cp)) peaks += fmt::format("{}{} {:g}", peaks.empty() ? "" : ", ", name(cp), c.peak_tflops[p]);
  }
  out << fmt::format("  peak TFLOP/s       {}\n", peaks);
  out << fmt::format("  node               {} GPUs, {} {:g} Gb/s per GPU, {:g} us\n", c.gpus_per_node,
                     c.intra_node_kind, c.intra_node_gbps, c.intra_node_latency_us);
  out << fmt::format("  network            {} x {:g} Gb/s {} per node = {:g} Gb/s per GPU, {:g} us\n", c.nics_per_node,
                     c.nic_gbps, c.inter_node_kind, c.inter_node_gbps_per_gpu(), c.inter_node_latency_us);
  const auto text = shipped_cluster_text(name_or_path);
  if (!text.empty()) out << "\nProfile (data/clusters/" << name_or_path << ".toml), with the source of every number:\n" << text;
  return 0;
}

int cmd_predictors(std::ostream& out) {
  for (const auto& p : predictor_table()) out << fmt::format("{:<12} {}\n", p.name, p.summary);
  return 0;
}

int run_commands(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const int code = run_commands(args, out, err);
  out.flush();
  if (code == 0 && !out) {
    err << "bitscale: writing the output failed (disk full or closed pipe)\n";
    return 2;
  }
  return code;
}

namespace {

int run_commands(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"bitscale: step time, throughput, speedup and memory of data-parallel training in low precision"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");

  GridOptions predict_opts;
  auto* predict = app.add_subcommand(
      "predict", "predict one configuration, or a table over GPU counts and precisions (lists allowed)");
  add_grid_options(predict, predict_opts, true);
  predict->add_flag("--explain", predict_opts.explain, "show where the step time comes from (one configuration)");
  predict->add_option("--trace", predict_opts.trace,
                      "write the step's timeline in Chrome trace format (open in Perfetto or chrome://tracing)");
  predict->add_option("--format,-f", predict_opts.format, "table, json or csv")->capture_default_str();

  GridOptions sweep_opts;
  sweep_opts.format = "csv";
  auto* sweep = app.add_subcommand("sweep", "CSV of every combination of GPUs x bandwidths x precisions x computes");
  add_grid_options(sweep, sweep_opts, true);
  sweep->add_option("--format,-f", sweep_opts.format, "csv or json")->capture_default_str();
  sweep->add_flag("--resume", sweep_opts.resume,
                  "continue an interrupted sweep from its FILE.csv.partial (same options)");
  sweep->add_option("--plot", sweep_opts.plot,
                    "also draw speedup against GPUs as SVG: a line per precision (and bandwidth, compute, batch), the "
                    "ideal line, log-scaled axes");

  GridOptions report_opts;
  auto* report = app.add_subcommand(
      "report", "a self-contained HTML report: predictions with 90% intervals, the speedup plot, the timeline of one "
                "step, what moves it, the workload and the profile with its sources");
  add_grid_options(report, report_opts, true);
  report->add_option("--detail-gpus", report_opts.detail_gpus,
                     "GPU count of the step drawn as a timeline (default: the largest of --gpus)");

  CollectiveOptions coll_opts;
  auto* coll = app.add_subcommand("collective", "time, algbw and busbw of one collective (alpha-beta model)");
  coll->add_option("--cluster,-c", coll_opts.cluster, "shipped name or TOML profile")->capture_default_str();
  coll->add_option("--op", coll_opts.op, "allreduce, allgather, reduce-scatter, broadcast, alltoall")
      ->capture_default_str();
  coll->add_option("--bytes", coll_opts.bytes, "buffer size (nccl-tests size), e.g. 64MiB")->required();
  coll->add_option("--gpus,-g", coll_opts.gpus, "ranks")->required();
  coll->add_option("--precision,-p", coll_opts.precision, "data type on the wire")->capture_default_str();
  coll->add_option("--algorithm", coll_opts.algorithm, "force an algorithm");
  coll->add_option("--bandwidth-gbps", coll_opts.bandwidth, "inter-node bandwidth per GPU in Gbit/s");
  coll->add_option("--format,-f", coll_opts.format, "table, json or csv")->capture_default_str();

  auto* workload = app.add_subcommand("workload", "list the shipped workloads or show one layer by layer");
  workload->require_subcommand(1);
  auto* workload_list = workload->add_subcommand("list", "shipped workloads with their totals");
  std::string workload_name, workload_format = "table";
  auto* workload_show = workload->add_subcommand("show", "layers of a workload (name, mlp:..., or TOML file)");
  workload_show->add_option("workload", workload_name, "workload name or file")->required();
  workload_show->add_option("--format,-f", workload_format, "table, json or csv")->capture_default_str();

  auto* cluster = app.add_subcommand("cluster", "list the shipped cluster profiles or show one");
  cluster->require_subcommand(1);
  auto* cluster_list = cluster->add_subcommand("list", "shipped cluster profiles");
  std::string cluster_name;
  auto* cluster_show = cluster->add_subcommand("show", "a profile with the source of every number");
  cluster_show->add_option("cluster", cluster_name, "cluster name or file")->required();

  auto* codec = app.add_subcommand("codec", "gradient codecs: list, bench, encode, decode, error");
  codec->require_subcommand(1);
  CodecCommands codec_cmds;
  add_codec_commands(codec, codec_cmds);

  CalibrateOptions calibrate_opts;
  add_calibrate_command(app, calibrate_opts);

  TrainOptions train_opts;
  add_train_command(app, train_opts);
  ValidateOptions validate_opts;
  add_validate_command(app, validate_opts);
  PlanOptions plan_opts;
  add_plan_command(app, plan_opts);
  GemmOptions gemm_opts;
  add_gemm_command(app, gemm_opts);

  auto* predictors = app.add_subcommand("predictors", "list the predictors");
  auto* version = app.add_subcommand("version", "version and build (CUDA or not)");

  // An unknown command gets the list of commands (CLI11 alone would only say that one is required).
  if (!args.empty() && !args.front().starts_with("-")) {
    std::string valid;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      valid += (valid.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->get_name() == args.front();
    }
    if (!known) {
      err << "bitscale: command '" << args.front() << "': unknown; valid: " << valid << " (see --help)\n";
      return 2;
    }
  }
  try {
    std::vector<const char*> argv{"bitscale"};
    for (const auto& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    out << app.help();  // delegates to the innermost subcommand given
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (message.empty()) message = "invalid command line";
    err << "bitscale: " << message << " (see --help)\n";
    return 2;
  }

  // an option given with an empty value is bad input, not "use the default"
  for (const CLI::App* sub = &app; sub != nullptr;) {
    for (const CLI::Option* opt : sub->get_options()) {
      if (opt->count() == 0) continue;
      for (const auto& r : opt->results()) {
        if (r.empty() || r.find_first_not_of(" \t") == std::string::npos) {
          err << "bitscale: " << opt->get_name() << " = '" << r << "': must not be empty\n";
          return 2;
        }
      }
    }
    const CLI::App* next = nullptr;
    for (const CLI::App* child : sub->get_subcommands()) next = child;
    sub = next;
  }
  try {
    if (predict->parsed()) return cmd_predict(predict_opts, out, err);
    if (sweep->parsed()) return cmd_predict(sweep_opts, out, err);
    if (report->parsed()) return cmd_report(report_opts, args, err);
    if (coll->parsed()) return cmd_collective(coll_opts, out);
    if (workload_list->parsed()) return cmd_workload_list(out);
    if (workload_show->parsed()) return cmd_workload_show(workload_name, workload_format, out);
    if (cluster_list->parsed()) return cmd_cluster_list(out);
    if (cluster_show->parsed()) return cmd_cluster_show(cluster_name, out);
    if (const int code = run_codec_command(codec_cmds, out, err); code >= 0) return code;
    if (calibrate_opts.command->parsed()) return run_calibrate(calibrate_opts, out, err);
    if (train_opts.command->parsed()) return run_train(train_opts, out, err);
    if (validate_opts.command->parsed()) return run_validate(validate_opts, out, err);
    if (plan_opts.command->parsed()) return run_plan(plan_opts, out, err);
    if (gemm_opts.command->parsed()) return run_gemm(gemm_opts, out, err);
    if (predictors->parsed()) return cmd_predictors(out);
    if (version->parsed()) {
      out << fmt::format("bitscale {}, CUDA {}{}\n", kVersion, cuda_compiled() ? "compiled" : "not compiled",
                         cuda_available() ? ", device: " + cuda_device_name() : ", no device");
      return 0;
    }
  } catch (const InputError& e) {
    err << "bitscale: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    err << "bitscale: internal error: " << e.what() << '\n';
    return 3;
  }
  err << "bitscale: no command given (see --help)\n";
  return 2;
}

}  // namespace

}  // namespace bitscale
