// bitscale calibrate --backend mpi: run under mpirun, one process per rank. Every rank measures; rank 0 prints,
// fits and writes the profile and its measurements (PROFILE.csv beside PROFILE.toml).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdlib>

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "calibrate/fit.hpp"
#include "calibrate/gloo_collectives.hpp"
#include "calibrate/host_bench.hpp"
#include "calibrate/link_fit.hpp"
#include "calibrate/mpi_collectives.hpp"
#include "calibrate/nccl_collectives.hpp"
#include "kernels/codec_cuda.hpp"
#include "kernels/error_stats.hpp"
#include "kernels/input_error.hpp"
#include "model/cluster.hpp"
#include "model/compute.hpp"
#include "model/parse.hpp"
#include "model/toml_reader.hpp"
#include "tools/calibrate_command.hpp"
#include "tools/calibrate_host.hpp"
#include "tools/interrupt.hpp"
#include "tools/report.hpp"
#include "tools/train_nn.hpp"

namespace bitscale {

std::string today();
std::optional<std::string> profile_for_gpu(const std::string& gpu);

namespace {

// the batch of the linear layer 1024 -> 1024 that the contention rounds time beside the allreduce
constexpr int kContentionSamples = 32;
// the contention's allreduce: the smallest of kContentionMinBytes doubled up to kContentionMaxBytes that runs at
// least kContentionMinSeconds alone (mpi_contention_bytes)
constexpr double kContentionMinBytes = 2 << 20, kContentionMaxBytes = 8 << 20;
constexpr double kContentionMinSeconds = 0.03;

struct MpiPlan {
  std::string backend;  // mpi or gloo
  std::vector<double> sizes;
  std::vector<CollectiveOp> ops;
  std::vector<std::string> types;
  int iters = 20, warmup = 5;
  double max_error = 25;
  std::vector<Workload> layer_workloads;
};

MpiPlan parse_plan(const CalibrateOptions& o) {
  MpiPlan p;
  p.backend = o.backend;
  for (auto s : parse_int_list("--sizes", o.sizes, 1, std::int64_t{1} << 34)) p.sizes.push_back(static_cast<double>(s));
  for (const auto& op : parse_name_list("--ops", o.ops)) p.ops.push_back(parse_collective_op(op, "--ops"));
  const bool gloo = o.backend == "gloo", nccl = o.backend == "nccl";
  // Gloo has no bf16; NCCL adds fp8: the default list follows the backend
  const bool default_types = o.types == CalibrateOptions{}.types;
  p.types = parse_name_list("--types", !default_types ? o.types
                                       : gloo         ? "fp32,fp16,int8"
                                       : nccl         ? "fp32,fp16,bf16,int8,fp8-e4m3,fp8-e5m2"
                                                      : o.types);
  for (const auto& t : p.types) {
    const bool known = t == "fp32" || t == "fp16" || t == "int8" || (!gloo && t == "bf16") ||
                       (!gloo && (t == "fp8-e4m3" || t == "fp8-e5m2"));
    if (nccl && !known) {
      throw InputError("", "--types", t, "valid for the nccl backend: fp32, fp16, bf16, int8, fp8-e4m3, fp8-e5m2");
    }
    if (!known) {
      throw InputError("", "--types", t, gloo ? "valid for the gloo backend: fp32, fp16, int8 (Gloo has no bf16)"
                                               : "valid for the mpi backend: fp32, fp16, bf16, fp8-e4m3, fp8-e5m2, int8");
    }
  }
  p.iters = static_cast<int>(parse_int("--iters", o.iters, 10, 100000));
  p.warmup = static_cast<int>(parse_int("--warmup", o.warmup, 0, 100000));
  p.max_error = parse_positive("--max-error", o.max_error, 1000);
  if (std::find(p.ops.begin(), p.ops.end(), CollectiveOp::allreduce) == p.ops.end() ||
      std::find(p.types.begin(), p.types.end(), "fp32") == p.types.end()) {
    throw InputError("", "--ops", o.ops, "must include allreduce with --types fp32: it sets the profile's links");
  }
  if (p.sizes.size() < 4) throw InputError("", "--sizes", o.sizes, "needs at least 4 sizes to fit");
  if (!o.layers_of.empty()) {
    if (o.backend != "mpi") throw InputError("", "--layers-of", o.layers_of, "is for the mpi backend (CPU ranks)");
    for (const auto& w : parse_name_list("--layers-of", o.layers_of)) p.layer_workloads.push_back(find_workload(w));
  }
  return p;
}

std::string layer_names(const MpiPlan& plan) {
  std::string names;
  for (const auto& w : plan.layer_workloads) names += (names.empty() ? "" : ", ") + w.name;
  return names;
}

// The workloads' own layers at their shapes and default batch, timed inside the trainer's step
// (network_layer_seconds: each layer's forward and backward with the layout changes around it and, for the last,
// the loss, as `bitscale train` runs them between its other layers, not one layer repeated alone): per step the
// time of a shape's layers together over their FLOPs, the median of 10 steps (the upper of the middle two) after 2
// warm-up steps, median over the ranks run together. A shape two workloads share is timed in the first. Every rank
// calls it (the medians are collective, taken in the keys' order, the same on every rank).
std::map<std::string, double> measure_layer_rates(const MpiPlan& plan) {
  std::map<std::string, double> rates;
  for (const auto& w : plan.layer_workloads) {
    const auto seconds = network_layer_seconds(w, w.default_batch, 10);
    std::map<std::string, std::pair<double, std::vector<double>>> shapes;  // key -> FLOPs, seconds per step
    for (std::size_t i = 0; i < w.layers.size(); ++i) {
      const auto& l = w.layers[i];
      const auto key = layer_shape_key(l, ComputePrecision::fp32, w.default_batch);
      if (key.empty() || rates.contains(key)) continue;
      auto& [flops, steps] = shapes[key];
      flops += 3.0 * l.forward_flops * static_cast<double>(w.default_batch);
      steps.resize(seconds[i].size(), 0.0);
      for (std::size_t k = 0; k < steps.size(); ++k) steps[k] += seconds[i][k];
    }
    for (auto& [key, shape] : shapes) {
      auto& [flops, steps] = shape;
      std::sort(steps.begin(), steps.end());
      rates[key] = mpi_median(flops / steps[steps.size() / 2]);
    }
  }
  return rates;
}

// CPU ranks: memcpy, Eigen GEMM and the codecs, every rank at once (what one rank gets while the others run).
// `early_layers`: the workloads' layers measured before the collectives (measure_layer_rates); they are measured
// twice more here, first and last, and each layer's median of the three kept: a slowdown of the host for one of
// them (tens of seconds of another load) does not set the profile's compute, and the median, unlike the faster of
// two (kept until 2026-12-02), is not biased fast. Every rank calls it (the medians are collective); the profile is
// meaningful on rank 0.
ClusterProfile measure_host(const MpiWorld& world, const MpiPlan& plan, const std::map<std::string, double>& early_layers,
                            double early_probe, const std::string& command, std::ostream& out) {
  const bool root = world.rank == 0;
  // the workloads' layers a second time, after the collectives, the host probe just before
  const double middle_probe = mpi_host_probe_gflops();
  const auto middle_layers = measure_layer_rates(plan);
  if (root) out << "# host: memcpy, GEMM (Eigen, one thread) and codecs, all ranks at the same time\n" << std::flush;
  HostRates r;
  r.memcpy_bytes_per_s = mpi_median(memcpy_bytes_per_s(std::size_t{64} << 20, 5));
  r.gemm_flops_per_s[static_cast<int>(ComputePrecision::fp32)] = mpi_median(gemm_flops(ComputePrecision::fp32, 512, 3));
  r.gemm_flops_per_s[static_cast<int>(ComputePrecision::fp16)] = mpi_median(gemm_flops(ComputePrecision::fp16, 256, 3));
  r.gemm_flops_per_s[static_cast<int>(ComputePrecision::bf16)] = mpi_median(gemm_flops(ComputePrecision::bf16, 256, 3));
  // the layer kinds' achieved rates through the trainer's kernels (forward + backward, fp32; median of 15 for the
  // linear layer, which the contention measurement below compares with): a linear layer
  // 1024 -> 1024 on 256 samples, a 3x3 convolution 64 -> 64 channels on 16x16 on 32 samples
  Workload shapes;
  NetBuilder nb(shapes);
  nb.linear("linear", 1024, 1024);
  nb.conv("conv", {64, 16, 16}, 64, 3, 3, 1, 1, 1);
  r.linear_flops_per_s = mpi_median(layer_flops_per_s(shapes.layers[0], 256, 15));
  r.conv_flops_per_s = mpi_median(layer_flops_per_s(shapes.layers[1], 32, 5));
  // contention: the linear layer and one allreduce (2-8 MiB) on every rank's second thread started together (each
  // also timed alone in the same round), as a bucket's collective starts while the backward pass goes on (a
  // communication thread takes a core, as the trainer's does); 15 rounds with fp32, whose launch (a scheduler
  // slice lost in some rounds, none in others) is the profile's. The layer on 32 samples (a pass of a few
  // milliseconds): the compute then outlasts the collective by little, and the host's own drift between the
  // compute alone and the compute beside the collective weighs less in the fraction (it counts tc / o times: at
  // 5 Gbit/s with 256 samples, 2 passes of 137 ms against an overlap of 15 ms, the rounds' fractions spread from
  // 0.01 to 1 and their quartiles 0.47-0.91; with 32 samples 0.46-0.64)
  r.contention = world.size > 1 && mpi_threads_serialized();  // same answer on every rank
  // the rank skew: one step of each named workload's forward and backward passes through the trainer's own
  // network (without workloads, three passes of the linear layer) on every rank after a barrier. A step's time
  // moves from step to step on each rank on its own, and the collective after it waits for the slowest rank;
  // passes of one layer spread less than training's steps do (docs/validation.md item 24). In three blocks,
  // seconds apart (after the contention, after each format's, after the codecs), the rounds' median: the host's
  // speed moves within a second or two (item 19), and rounds back to back could all fall in one episode of a
  // slow core
  std::vector<std::function<void()>> skew_work;
  if (world.size > 1) {
    for (const auto& w : plan.layer_workloads) skew_work.push_back(network_step(w, w.default_batch));
  }
  if (skew_work.empty()) skew_work.push_back([&] { layer_flops_per_s(shapes.layers[0], 256, 2); });
  const int skew_rounds = plan.layer_workloads.empty() ? 3 : 4;  // a block's rounds, for each workload
  std::vector<double> skews;
  const auto skew_block = [&] {
    for (const auto& work : skew_work) {
      const auto block = mpi_rank_skews(work, skew_rounds);
      skews.insert(skews.end(), block.begin(), block.end());
    }
  };
  if (r.contention) {
    // the allreduce: 2 MiB, doubled up to 8 MiB while it runs under 30 ms alone (a short collective's start and
    // end, which load the cores less, would weigh too much in the overlap: docs/validation.md item 23)
    r.contention_bytes = mpi_contention_bytes(kContentionMinBytes, kContentionMinSeconds, kContentionMaxBytes);
    // the layer's pass, its buffers made once for every round of every collective
    const auto pass = layer_pass(shapes.layers[0], kContentionSamples);
    const auto both = mpi_joint_contention(pass, r.contention_bytes, 15);
    r.compute_during_comm = both.compute_during_comm;
    r.comm_during_compute = both.comm_during_compute;
    r.comm_launch_s = both.launch_s;
    skew_block();
    // the same with the allreduce of every summed wire format the calibration times (the trainer's sum of its
    // codes: a CPU rank spends more time in it than in MPI's fp32 sum, and compute and it slow each other more)
    if (plan.backend == "mpi") {
      for (const auto& t : plan.types) {
        if (!mpi_summed_format(t)) continue;
        if (root) {
          out << fmt::format("# contention with an allreduce of {:g} MiB of {}\n", r.contention_bytes / 1048576, t)
              << std::flush;
        }
        const auto one = mpi_joint_contention(pass, r.contention_bytes, 5, t);
        r.contention_by_format[t] = {one.compute_during_comm, one.comm_during_compute};
      }
    }
    skew_block();
  }
  // the codecs on the values they will encode: the named workloads' own gradients (one pass at initialisation,
  // repeated to 2^22 values), else gradient-like values; fp8's encode runs 1.5x longer on the latter
  std::vector<float> values;
  for (const auto& w : plan.layer_workloads) {
    const auto g = initial_gradients(w, w.default_batch);
    values.insert(values.end(), g.begin(), g.end());
  }
  if (values.empty()) {
    values = gradient_like(std::size_t{1} << 22, 7);
  } else {
    for (std::size_t i = 0; values.size() < (std::size_t{1} << 22); ++i) values.push_back(values[i]);
  }
  for (const auto& f : wire_formats()) {
    if (f.name == "fp32") continue;
    const auto rate = codec_rate_cpu(f, values, 3);
    // one rate for both directions that gives their total time (the harmonic mean): a slow encode and a fast
    // decode must not average to a fast codec
    r.codec_bytes_per_s[f.name] =
        mpi_median(2.0 / (1.0 / rate.encode_bytes_per_s + 1.0 / rate.decode_bytes_per_s));
    // and each direction alone: a gathered bucket is decoded p - 1 times for one encode
    r.codec_encode_bytes_per_s[f.name] = mpi_median(rate.encode_bytes_per_s);
    r.codec_decode_bytes_per_s[f.name] = mpi_median(rate.decode_bytes_per_s);
  }
  if (r.contention) {
    skew_block();
    r.rank_skew = std::clamp(median_value(skews), 0.0, 10.0);  // every rank holds the same values
  }
  // the workloads' own layers, at their shapes and default batch, a third time: each layer's median of the three
  r.layer_workloads = layer_names(plan);
  const double late_probe = mpi_host_probe_gflops();
  r.layer_flops_per_s = measure_layer_rates(plan);
  r.probe_gflops_early = early_probe;
  r.probe_gflops_middle = middle_probe;
  r.probe_gflops_late = late_probe;
  std::vector<double> spreads;
  for (auto& [key, rate] : r.layer_flops_per_s) {
    const auto first = early_layers.find(key), second = middle_layers.find(key);
    if (first != early_layers.end() && second != middle_layers.end()) {
      spreads.push_back(three_measurement_spread(first->second, second->second, rate));
      r.layer_flops_measured[key] = {first->second, second->second, rate};
      rate = median_of_three(first->second, second->second, rate);
    }
  }
  if (!spreads.empty()) {
    std::sort(spreads.begin(), spreads.end());
    r.layer_spread = spreads[spreads.size() / 2];
  }
  const HostEngine engine{
      .kernels = "bitscale train's",
      .layer_kernels = "bitscale train's kernels (Eigen, one thread)",
      .conv = "3x3 convolution (im2col + GEMM)",
      .gemm = "Eigen GEMM, one thread per rank, fp32 512^3, fp16 and bf16 256^3 (emulated on this CPU)",
      .codecs = plan.layer_workloads.empty()
                    ? "bitscale codecs on 2^22 gradient-like values (16 MiB), encode and decode together (2 x bytes "
                      "read + written over their summed times)"
                    : "bitscale codecs on the gradients of " + layer_names(plan) + " after one step at "
                      "initialisation (at least 2^22 values), encode and decode together (2 x bytes read + "
                      "written over their summed times)",
      .comm_load = fmt::format("allreduce of {:g} MiB (fp32; {:g} MiB, doubled up to {:g} while it ran under {:g} "
                               "ms alone)",
                               r.contention_bytes / 1048576, kContentionMinBytes / 1048576,
                               kContentionMaxBytes / 1048576, 1e3 * kContentionMinSeconds),
      .format_comm_load = fmt::format("allreduce of {:g} MiB of {{}} codes (APS-scaled gradient-like values, summed "
                                      "in the format as bitscale train sums them)",
                                      r.contention_bytes / 1048576),
      .layer_timing = "inside the trainer's step (its ReLU, layout changes and loss included), median of 10 steps "
                      "after 2 warm-up steps, measured before the collectives, after them and at the end, the "
                      "median of the three kept",
      .gemm_probe = "Eigen's (one thread)",
      .contention_rounds = 15,
      .contention_samples = kContentionSamples,
      .rank_skew_rounds = " in three blocks of 3 (after the contention, after each wire format's contention where "
                          "measured, after the codecs)",
      .rank_skew_timing =
          plan.layer_workloads.empty()
              ? ""
              : fmt::format("the slowest rank's time over the mean of every rank's for one step of the trainer's "
                            "forward and backward passes of {} (the loss included, the optimizer not) at the "
                            "workload's default batch, started together after a barrier, minus 1; the median of "
                            "{} rounds in three blocks of {} a workload, seconds apart (after the contention, after "
                            "each wire format's contention where measured, after the codecs)",
                            layer_names(plan), skews.size(), skew_rounds),
  };
  const HostScope scope{world.size, world.nodes, world.ranks_per_node, world.host,
                        cpu_model_name().empty() ? "CPU" : cpu_model_name(),
                        std::max(1.0, host_memory_gib() / world.ranks_per_node)};
  ClusterProfile c = host_profile(r, engine, scope, command);
  if (root) print_host_rates(r, out);
  return c;
}

// GPU ranks: cuBLAS GEMM, a device-to-device copy and the CUDA codecs, on every GPU at once; the profile starts
// from the shipped one with this GPU (or --base) and replaces what was measured.
ClusterProfile measure_gpu(const CalibrateOptions& o, const MpiWorld& world, const std::string& gpu,
                           const std::string& command, std::ostream& out) {
  const bool root = world.rank == 0;
  std::string base = o.base;
  if (base.empty()) {
    const auto match = profile_for_gpu(gpu);
    if (!match) throw InputError("", "--base", "", "no shipped profile has the GPU '" + gpu + "': pass --base");
    base = *match;
  }
  ClusterProfile c = find_cluster(base, "--base");
  if (root) out << "# device: copy, cuBLAS GEMM 4096^3 and CUDA codecs, every GPU at the same time\n" << std::flush;
  const double copy = mpi_median(device_copy_bytes_per_s(std::size_t{256} << 20, 20));
  c.hbm_gbyte_per_s = copy / 1e9;
  c.gpu_memory_gib = device_memory_gib();
  c.gpu_model = gpu;
  c.sources["gpu.hbm_gbyte_per_s"] = "device-to-device copy of 256 MiB, bytes read + written, median of 20; " + command;
  c.sources["gpu.memory_gib"] = "cudaMemGetInfo total; " + command;
  c.sources["gpu.model"] = "cudaGetDeviceProperties; " + command;
  std::string achieved;
  for (auto p : {ComputePrecision::fp32, ComputePrecision::tf32, ComputePrecision::fp16, ComputePrecision::bf16}) {
    if (!c.supports(p)) continue;
    const double rate = mpi_median(cublas_gemm_flops(p, 4096, 20));
    achieved += fmt::format("{}{} {:.1f}", achieved.empty() ? "" : ", ", name(p), rate / 1e12);
    // each precision's own fraction of its peak ([efficiency.<compute>]); fp16's also as the default below
    const double own = std::min(1.0, rate / c.peak_flops(p));
    c.efficiency_by_compute[static_cast<int>(p)][static_cast<int>(LayerKind::linear)] = own;
    c.efficiency_by_compute[static_cast<int>(p)][static_cast<int>(LayerKind::conv)] = own;
    c.sources["efficiency." + std::string(name(p))] =
        fmt::format("cuBLAS {} GEMM 4096^3 on random operands, {:.1f} TFLOP/s over the datasheet peak; {}", name(p),
                    rate / 1e12, command);
    if (p == ComputePrecision::fp16) {
      // GEMM-like layers reach what cuBLAS reaches on a large GEMM; the datasheet peak stays the reference
      const double fraction = std::min(1.0, rate / c.peak_flops(p));
      c.efficiency[static_cast<int>(LayerKind::linear)] = fraction;
      c.efficiency[static_cast<int>(LayerKind::conv)] = fraction;
    }
  }
  c.sources["efficiency.linear"] = "cuBLAS fp16 GEMM 4096^3 over the datasheet peak (" + achieved + " TFLOP/s); " + command;
  c.sources["efficiency.conv"] = c.sources["efficiency.linear"];
  const auto gradients = gradient_like(std::size_t{1} << 24, 7);
  for (const auto& f : wire_formats()) {
    if (f.name == "fp32") continue;
    const auto t = time_codec_cuda(f, gradients, 20);
    if (!t.encode_matches_cpu || !t.decode_matches_cpu) {
      throw std::runtime_error("the CUDA " + f.name + " codec differs from the CPU's on the calibration data");
    }
    const double bytes = 4.0 * (1 << 24) + static_cast<double>(wire_size(f, std::size_t{1} << 24));
    c.codec_gbyte_per_s[f.name] = mpi_median(2.0 * bytes / (t.encode_s + t.decode_s)) / 1e9;
    c.codec_encode_gbyte_per_s[f.name] = mpi_median(bytes / t.encode_s) / 1e9;
    c.codec_decode_gbyte_per_s[f.name] = mpi_median(bytes / t.decode_s) / 1e9;
  }
  c.sources["codecs"] = "bitscale CUDA codecs on 2^24 gradient-like values, encode and decode together (2 x bytes over their summed "
                        "times; CUDA events, median of 20); " +
                        command;
  c.sources["codec_encode"] = "bitscale CUDA codecs on 2^24 values, the encode alone (bytes read + written over its "
                              "time; CUDA events, median of 20); " + command;
  c.sources["codec_decode"] = "bitscale CUDA codecs on 2^24 values, the decode alone (bytes read + written over its "
                              "time; CUDA events, median of 20); " + command;
  if (root) {
    out << fmt::format("  copy {:.1f} GB/s; GEMM TFLOP/s: {}\n", copy / 1e9, achieved);
    for (const auto& [name, rate] : c.codec_gbyte_per_s) out << fmt::format("  codec {:<11} {:.1f} GB/s\n", name, rate);
  }
  c.description = fmt::format("{} GPUs ({}) on {} host(s), calibrated by microbenchmarks on the base profile {}",
                              world.size, gpu, world.nodes, base);
  return c;
}

// The measurements of a calibration under way, PROFILE.toml.partial: rewritten whole (atomically) after every
// size, so that an interrupted run leaves every size it measured and nothing half-written. Its first line names
// the plan; `--resume` takes the rows of the same plan and measures only the rest.
constexpr std::string_view kPartialColumns = "op,type,size,bytes,median_s,min_s,max_s";

std::string partial_plan(const MpiPlan& plan, const MpiWorld& world) {
  std::string ops, sizes;
  for (auto op : plan.ops) ops += (ops.empty() ? "" : ",") + std::string(name(op));
  for (double s : plan.sizes) sizes += (sizes.empty() ? "" : ",") + fmt::format("{:.0f}", s);
  std::string types;
  for (const auto& t : plan.types) types += (types.empty() ? "" : ",") + t;
  return fmt::format("# bitscale calibrate partial: backend {}; ranks {}; nodes {}; ops {}; types {}; sizes {}; iters {}; "
                     "warmup {}",
                     plan.backend, world.size, world.nodes, ops, types, sizes, plan.iters, plan.warmup);
}

std::string partial_row(const MpiTiming& t) {
  return fmt::format("{},{},{:.0f},{:.0f},{:.9g},{:.9g},{:.9g}\n", name(t.op), t.type, t.size, t.bytes, t.median_s,
                     t.min_s, t.max_s);
}

std::vector<MpiTiming> parse_partial(const std::string& text, const std::string& path, const std::string& plan) {
  std::vector<MpiTiming> rows;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto where = fmt::format("{}:{}", path, number);
    if (number == 1) {
      if (line != plan) {
        throw InputError(path, "--resume", path,
                         "was written by a calibration with other settings (its first line differs from '" + plan +
                             "'): run the same command, or remove it");
      }
      continue;
    }
    if (number == 2) {
      if (line != kPartialColumns) throw InputError(where, "header", line, "must be " + std::string(kPartialColumns));
      continue;
    }
    std::vector<std::string> f;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) f.push_back(cell);
    if (f.size() != 7) throw InputError(where, "row", line, "must have 7 fields");
    MpiTiming t;
    t.op = parse_collective_op(f[0], "op");
    t.type = f[1];
    t.size = parse_positive(where + " size", f[2], 1e15);
    t.bytes = parse_positive(where + " bytes", f[3], 1e15);
    t.median_s = parse_positive(where + " median_s", f[4], 1e6);
    t.min_s = parse_positive(where + " min_s", f[5], 1e6);
    t.max_s = parse_positive(where + " max_s", f[6], 1e6);
    rows.push_back(t);
  }
  return rows;
}

int run_mpi(const CalibrateOptions& o, const MpiPlan& plan, std::ostream& out, std::ostream& err) {
  const auto world = mpi_world();
  const bool root = world.rank == 0;
  // one rank: the host alone (compute, memory, codecs), for the one-rank baseline of a speedup; no collectives
  const bool alone = world.size == 1 && plan.backend == "mpi";
  if (world.size < 2 && !alone) {
    throw InputError("", "--backend", plan.backend,
                     "needs >= 2 processes: run it under mpirun (mpirun -np 2 bitscale calibrate ...)");
  }
  if (root) {
    out << fmt::format("# bitscale calibrate --backend {}: {} ranks on {} host{} ({}), {} iterations after {} "
                       "warm-up, time = slowest rank, median\n",
                       plan.backend, world.size, world.nodes, world.nodes == 1 ? "" : "s", world.host, plan.iters,
                       plan.warmup);
    out << fmt::format("# {:>14} {:>6} {:>12} {:>12} {:>10} {:>9} {:>9} {:>10} {:>10}\n", "op", "type", "size (B)",
                       "count", "time (us)", "algbw", "busbw", "min (us)", "max (us)")
        << std::flush;
  }
  const auto print_row = [&](const MpiTiming& t) {
    const double algbw = t.bytes / t.median_s / 1e9;
    const int element = t.type.starts_with("fp32") ? 4 : t.type.starts_with("int8") || t.type.starts_with("fp8") ? 1 : 2;
    out << fmt::format("  {:>14} {:>6} {:>12.0f} {:>12.0f} {:>10.2f} {:>9.3f} {:>9.3f} {:>10.2f} {:>10.2f}\n",
                       name(t.op), t.type, t.bytes, t.bytes / element, t.median_s * 1e6, algbw,
                       algbw * bus_factor(t.op, world.size), t.min_s * 1e6, t.max_s * 1e6)
        << std::flush;
  };
  // every size measured goes to the partial file at once; a resumed run starts from its rows
  const std::string partial = o.out.empty() ? "" : o.out + ".partial";
  const std::string plan_line = partial_plan(plan, world);
  std::vector<MpiTiming> resumed;
  if (!partial.empty()) {
    // rank 0 looks; every rank learns what it found and fails the same way (one file system or not)
    std::string found;
    if (root) {
      std::error_code ec;
      const bool exists = std::filesystem::exists(partial, ec);
      if (o.resume && !exists) {
        found = "!no " + partial + " to resume (an interrupted calibration leaves it)";
      } else if (!o.resume && exists) {
        found = "!" + partial + " holds an interrupted calibration's measurements: add --resume to finish it, or "
                "remove it";
      } else if (o.resume) {
        try {
          found = read_text_file(partial, "--resume");
        } catch (const InputError& e) {
          found = std::string("!") + e.what();
        }
      }
    }
    found = mpi_broadcast_text(found);
    if (found.starts_with("!")) throw InputError("", o.resume ? "--resume" : "--out", o.out, found.substr(1));
    if (o.resume) {
      resumed = parse_partial(found, partial, plan_line);
      if (root) out << fmt::format("# resumed: {} measured row(s) from {}\n", resumed.size(), partial) << std::flush;
    }
  }
  std::string partial_text = plan_line + "\n" + std::string(kPartialColumns) + "\n";
  for (const auto& t : resumed) partial_text += partial_row(t);
  // tests only: BITSCALE_TEST_INTERRUPT_AFTER_ROWS=N, rank 0 signals itself once N new rows are written
  const char* interrupt_env = std::getenv("BITSCALE_TEST_INTERRUPT_AFTER_ROWS");
  const long interrupt_after = interrupt_env != nullptr ? std::atol(interrupt_env) : 0;
  long written = 0;
  bool interrupted = false;
  SeriesHooks hooks;
  hooks.on_row = [&](const MpiTiming& t) {
    print_row(t);
    if (partial.empty()) return;
    partial_text += partial_row(t);
    write_file_atomically(partial, partial_text, "--out");
    if (interrupt_after > 0 && ++written == interrupt_after) ::raise(SIGINT);
  };
  hooks.done = [&](CollectiveOp op, const std::string& type, double size) {
    return std::any_of(resumed.begin(), resumed.end(), [&](const MpiTiming& t) {
      return t.op == op && t.size == size && (t.type == type || t.type.starts_with(type + "/"));
    });
  };
  // SIGINT or SIGTERM on any rank: every rank stops after the size under way
  hooks.stop = [&] { return interrupted = mpi_any(InterruptGuard::interrupted()); };
  // the workloads' layers a first time, the host probe just before (measure_host takes both again after the
  // collectives)
  const double early_probe = mpi_host_probe_gflops();
  const auto early_layers = measure_layer_rates(plan);
  std::vector<MpiTiming> timings;
  std::string gpu;
  if (plan.backend == "nccl") {
    gpu = nccl_select_device();
    timings = time_nccl_collectives(plan.ops, plan.types, plan.sizes, plan.warmup, plan.iters, hooks);
  } else if (plan.backend == "gloo") {
    // the file store lives in a fresh directory under the rendezvous parent; one host: loopback TCP
    const auto dir = mpi_shared_temp_dir(o.rendezvous.empty() ? std::filesystem::temp_directory_path().string()
                                                              : o.rendezvous);
    try {
      timings = time_gloo_collectives(plan.ops, plan.types, plan.sizes, plan.warmup, plan.iters, dir,
                                      world.nodes == 1 ? std::string("127.0.0.1") : world.host, hooks);
    } catch (...) {
      mpi_remove_dir(dir);
      throw;
    }
    mpi_remove_dir(dir);
  } else if (!alone) {
    timings = time_mpi_collectives(plan.ops, plan.types, plan.sizes, plan.warmup, plan.iters, hooks);
  }
  if (interrupted) {
    if (root) {
      err << fmt::format("bitscale: calibrate: interrupted; {} keeps the {} size(s) measured: the same command with "
                         "--resume measures the rest\n",
                         partial.empty() ? std::string("nothing") : partial,
                         resumed.size() + timings.size());
    }
    return InterruptGuard::exit_code();
  }
  timings.insert(timings.begin(), resumed.begin(), resumed.end());
  // each series by size, resumed rows among the new
  std::stable_sort(timings.begin(), timings.end(), [](const MpiTiming& a, const MpiTiming& b) { return a.bytes < b.bytes; });

  const std::string when = today();
  const std::string command = fmt::format("bitscale calibrate --backend {}, {} ranks on {} ({}), {}", plan.backend,
                                          world.size, world.host, gpu.empty() ? cpu_model_name() : gpu, when);
  ClusterProfile c = plan.backend == "nccl" ? measure_gpu(o, world, gpu, command, out)
                                              : measure_host(world, plan, early_layers, early_probe, command, out);
  if (!root) return 0;
  c.name = o.out.empty() ? plan.backend + "-calibrated" : std::filesystem::path(o.out).stem().string();
  c.source = o.out;
  c.collective_library = plan.backend;

  if (alone) set_links_of_one_rank(c);
  // fits: every op and type; allreduce fp32 (Gloo: its ring) sets the links
  const auto fits = fit_series(timings, plan.backend == "gloo" ? "fp32/ring" : "fp32", world.size, world.nodes,
                               plan.max_error, command, c, out, err);
  if (fits.links_failed) {
    // a resumed run would fit the same rows again: the partial file is kept under another name, for a look at
    // its rows, and the next run measures afresh
    if (!partial.empty()) {
      std::error_code ec;
      std::filesystem::rename(partial, o.out + ".unfit", ec);
      if (!ec) {
        err << fmt::format("bitscale: {} kept as {}.unfit: its sizes fit no line, and a run with --resume would "
                           "not either; the next run measures afresh\n",
                           partial, o.out);
      }
    }
    return 1;
  }
  const int code = finish_profile(c, fits.ok, o, out, err, {{measurements_csv_path(o.out), fits.csv}});
  if (code == 0 && !partial.empty()) {
    std::error_code ec;
    std::filesystem::remove(partial, ec);  // the profile holds it all now
  }
  return code;
}

}  // namespace

int calibrate_with_mpi(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  const auto plan = parse_plan(o);  // bad flags fail before MPI starts, the same on every rank
  if (!o.out.empty()) {
    // a bad --out fails now, not after the measurements
    std::error_code ec;
    const auto dir = std::filesystem::path(o.out).has_parent_path() ? std::filesystem::path(o.out).parent_path()
                                                                     : std::filesystem::path(".");
    if (!std::filesystem::is_directory(dir, ec)) throw InputError("", "--out", o.out, "its directory does not exist");
  }
  if (o.resume && o.out.empty()) throw InputError("", "--resume", "", "needs --out: the partial file is OUT.partial");
  const InterruptGuard guard;  // Ctrl-C and SIGTERM stop the measurements between two sizes (run_mpi)
  MpiSession session;
  // every rank learns its rank now: after a failure on one rank, no other collective may be started (a rank
  // that did not fail would never join it)
  const bool root = mpi_world().rank == 0;
  int code = 0;
  std::string message;
  try {
    code = run_mpi(o, plan, out, err);
  } catch (const InputError& e) {
    code = 2;
    message = e.what();
  }
  code = mpi_agree(code);
  if (!message.empty() && root) err << "bitscale: " << message << '\n';
  return code;
}

}  // namespace bitscale
