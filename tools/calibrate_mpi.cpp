// bitscale calibrate --backend mpi: run under mpirun, one process per rank. Every rank measures; rank 0 prints,
// fits and writes the profile and its measurements (PROFILE.csv beside PROFILE.toml).
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <sstream>

#include "calibrate/fit.hpp"
#include "calibrate/gloo_collectives.hpp"
#include "calibrate/host_bench.hpp"
#include "calibrate/link_fit.hpp"
#include "calibrate/mpi_collectives.hpp"
#include "calibrate/nccl_collectives.hpp"
#include "kernels/codec_cuda.hpp"
#include "kernels/input_error.hpp"
#include "model/cluster.hpp"
#include "model/compute.hpp"
#include "model/parse.hpp"
#include "tools/calibrate_command.hpp"
#include "tools/report.hpp"
#include "tools/train_nn.hpp"

namespace bitscale {

std::string today();
std::optional<std::string> profile_for_gpu(const std::string& gpu);

namespace {

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
                       (nccl && (t == "fp8-e4m3" || t == "fp8-e5m2"));
    if (nccl && !known) {
      throw InputError("", "--types", t, "valid for the nccl backend: fp32, fp16, bf16, int8, fp8-e4m3, fp8-e5m2");
    }
    if (!known) {
      throw InputError("", "--types", t, gloo ? "valid for the gloo backend: fp32, fp16, int8 (Gloo has no bf16)"
                                               : "valid for the mpi backend: fp32, fp16, bf16, int8");
    }
  }
  p.iters = static_cast<int>(parse_int("--iters", o.iters, 20, 100000));
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

std::string csv_path(const std::string& out) {
  std::filesystem::path p(out);
  p.replace_extension(".csv");
  return p.string();
}

// CPU ranks: memcpy, Eigen GEMM and the codecs, every rank at once (what one rank gets while the others run).
// Every rank calls it (the medians are collective); the profile is meaningful on rank 0.
ClusterProfile measure_host(const MpiWorld& world, const MpiPlan& plan, const std::string& command,
                            std::ostream& out) {
  const bool root = world.rank == 0;
  if (root) out << "# host: memcpy, GEMM (Eigen, one thread) and codecs, all ranks at the same time\n" << std::flush;
  const double memcpy_rate = mpi_median(memcpy_bytes_per_s(std::size_t{64} << 20, 5));
  const double gemm32 = mpi_median(gemm_flops(ComputePrecision::fp32, 512, 3));
  const double gemm16 = mpi_median(gemm_flops(ComputePrecision::fp16, 256, 3));
  const double gemmbf = mpi_median(gemm_flops(ComputePrecision::bf16, 256, 3));
  // the layer kinds' achieved rates through the trainer's kernels (forward + backward, fp32; median of 15 for the
  // linear layer, which the contention measurement below compares with): a linear layer
  // 1024 -> 1024 on 256 samples, a 3x3 convolution 64 -> 64 channels on 16x16 on 32 samples
  Workload shapes;
  NetBuilder nb(shapes);
  nb.linear("linear", 1024, 1024);
  nb.conv("conv", {64, 16, 16}, 64, 3, 3, 1, 1, 1);
  const double linear_rate = mpi_median(layer_flops_per_s(shapes.layers[0], 256, 15));
  const double conv_rate = mpi_median(layer_flops_per_s(shapes.layers[1], 32, 5));
  // contention: the linear layer again while every rank's second thread runs allreduces (a communication thread
  // takes a core, as the trainer's does)
  double during = linear_rate;
  const bool contention = world.size > 1 && mpi_threads_serialized();  // same answer on every rank
  if (contention) {
    double mine = 0;
    mpi_while_allreducing([&] { mine = layer_flops_per_s(shapes.layers[0], 256, 15); });
    during = mpi_median(mine);
  }
  const double during_comm = std::clamp(during / linear_rate, 0.01, 1.0);
  // and the other way: a 1 MiB allreduce while every rank's second thread runs the linear layer
  double comm_during = 1.0;
  if (contention) {
    const double alone = mpi_median(mpi_allreduce_seconds(1 << 20, 9));
    const double busy =
        mpi_median(mpi_allreduce_seconds(1 << 20, 9, [&] { layer_flops_per_s(shapes.layers[0], 256, 1); }));
    comm_during = std::clamp(alone / busy, 0.01, 1.0);
  }
  std::map<std::string, double> codec_rates;
  for (const auto& f : wire_formats()) {
    if (f.name == "fp32") continue;
    const auto r = codec_rate_cpu(f, std::size_t{1} << 22, 3);
    codec_rates[f.name] = mpi_median(0.5 * (r.encode_bytes_per_s + r.decode_bytes_per_s));
  }
  ClusterProfile c;
  if (root) {
    out << fmt::format("  memcpy {:.2f} GB/s (read + written); GEMM fp32 {:.2f}, fp16 {:.3f}, bf16 {:.3f} GFLOP/s\n",
                       memcpy_rate / 1e9, gemm32 / 1e9, gemm16 / 1e9, gemmbf / 1e9);
    out << fmt::format("  layers (forward + backward, fp32): linear 1024x1024 {:.2f}, conv 3x3 64ch 16x16 {:.2f} GFLOP/s\n",
                       linear_rate / 1e9, conv_rate / 1e9);
    out << fmt::format("  linear 1024x1024 while allreducing: {:.2f} GFLOP/s, {:.3f} of the rate alone\n", during / 1e9,
                       during_comm);
    out << fmt::format("  allreduce 1 MiB while computing: {:.3f} of the speed alone\n", comm_during);
    for (const auto& [name, rate] : codec_rates) out << fmt::format("  codec {:<11} {:.3f} GB/s\n", name, rate / 1e9);
  }
  c.description = fmt::format("{} ranks on {} host(s) {}, calibrated by microbenchmarks", world.size, world.nodes,
                              world.host);
  c.gpu_model = fmt::format("{} (one rank's share)", cpu_model_name().empty() ? "CPU" : cpu_model_name());
  c.gpu_memory_gib = std::max(1.0, host_memory_gib() / world.ranks_per_node);
  c.memory_reserved_gib = 0;
  c.hbm_gbyte_per_s = memcpy_rate / 1e9;
  c.codec_hbm_efficiency = 1.0;
  c.compute_during_comm = during_comm;
  c.comm_during_compute = comm_during;
  c.sources["gpu.comm_during_compute"] =
      contention ? "allreduce of 1 MiB (fp32, median of 9) alone over the same while a second thread of every rank "
                       "runs bitscale train's linear layer 1024 -> 1024, median over ranks; " + command
                     : "not measured (one rank, or an MPI without MPI_THREAD_SERIALIZED): taken as none";
  c.sources["gpu.compute_during_comm"] =
      contention ? "bitscale train's linear layer 1024 -> 1024 (256 samples, median of 15) while a second thread of "
                       "every rank allreduces 4 MiB over and over, over its rate alone, median over ranks; " + command
                     : "not measured (one rank, or an MPI without MPI_THREAD_SERIALIZED): taken as none";
  c.peak_tflops[static_cast<int>(ComputePrecision::fp32)] = gemm32 / 1e12;
  c.peak_tflops[static_cast<int>(ComputePrecision::fp16)] = gemm16 / 1e12;
  c.peak_tflops[static_cast<int>(ComputePrecision::bf16)] = gemmbf / 1e12;
  c.default_compute = ComputePrecision::fp32;
  c.efficiency.fill(1.0);
  c.efficiency[static_cast<int>(LayerKind::linear)] = std::min(1.0, linear_rate / gemm32);
  c.efficiency[static_cast<int>(LayerKind::conv)] = std::min(1.0, conv_rate / gemm32);
  for (const auto& [name, rate] : codec_rates) c.codec_gbyte_per_s[name] = rate / 1e9;
  c.gpus_per_node = world.ranks_per_node;
  c.intra_node_kind = "shared-memory";
  c.inter_node_kind = world.nodes > 1 ? "network" : "none (one host)";
  c.sources["default_compute"] = "CPU ranks compute in fp32";
  c.sources["gpu.model"] = "/proc/cpuinfo; " + command;
  c.sources["gpu.memory_gib"] = "/proc/meminfo MemTotal shared by the host's ranks";
  c.sources["gpu.memory_reserved_gib"] = "none reserved on a CPU rank";
  c.sources["gpu.hbm_gbyte_per_s"] = "memcpy of 64 MiB, bytes read + written, median over ranks run together; " + command;
  c.sources["gpu.codec_hbm_efficiency"] = "unused: [codecs] holds the measured codec rates";
  c.sources["gpu.peak_tflops"] = "Eigen GEMM, one thread per rank, fp32 512^3, fp16 and bf16 256^3 (emulated on "
                                 "this CPU), median over ranks run together; " + command;
  c.sources["efficiency"] = "1 for the other kinds: the peak rates are the achieved GEMM rates";
  c.sources["efficiency.linear"] = "bitscale train's linear layer 1024 -> 1024, 256 samples, forward + backward "
                                   "(3x the forward FLOPs) over the fp32 GEMM rate, median over ranks run together; " +
                                   command;
  c.sources["efficiency.conv"] = "bitscale train's 3x3 convolution (im2col + GEMM) 64 -> 64 channels on 16x16, 32 "
                                 "samples, forward + backward over the fp32 GEMM rate, median over ranks run together; " +
                                 command;
  c.sources["codecs"] = "bitscale codecs on 2^22 gradient-like values (16 MiB), mean of encode and decode, bytes read + "
                        "written per second, median over ranks run together; " + command;
  // the workloads' own layers, at their shapes and default batch
  std::string names;
  for (const auto& w : plan.layer_workloads) {
    names += (names.empty() ? "" : ", ") + w.name;
    for (const auto& l : w.layers) {
      const auto key = layer_shape_key(l, ComputePrecision::fp32, w.default_batch);
      if (key.empty() || c.layer_gflops.contains(key)) continue;
      const double rate = mpi_median(layer_flops_per_s(l, w.default_batch, 5));
      c.layer_gflops[key] = rate / 1e9;
      if (root) out << fmt::format("  layer {:<40} {:.2f} GFLOP/s (forward + backward)\n", key, rate / 1e9) << std::flush;
    }
  }
  if (!c.layer_gflops.empty()) {
    c.sources["layer_rates"] = "bitscale train's kernels (Eigen, one thread), forward + backward (3x the forward FLOPs) "
                               "at the shapes and default batch of " + names +
                               ", median of 5 after a warm-up, median over ranks run together; " + command;
  }
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
    if (p == ComputePrecision::fp16) {
      // GEMM-like layers reach what cuBLAS reaches on a large GEMM; the datasheet peak stays the reference
      const double fraction = std::min(1.0, rate / c.peak_flops(p));
      c.efficiency[static_cast<int>(LayerKind::linear)] = fraction;
      c.efficiency[static_cast<int>(LayerKind::conv)] = fraction;
    }
  }
  c.sources["efficiency.linear"] = "cuBLAS fp16 GEMM 4096^3 over the datasheet peak (" + achieved + " TFLOP/s); " + command;
  c.sources["efficiency.conv"] = c.sources["efficiency.linear"];
  for (const auto& f : wire_formats()) {
    if (f.name == "fp32") continue;
    const auto t = time_codec_cuda(f, std::size_t{1} << 24, 20);
    const double bytes = 4.0 * (1 << 24) + static_cast<double>(wire_size(f, std::size_t{1} << 24));
    c.codec_gbyte_per_s[f.name] = mpi_median(0.5 * (bytes / t.encode_s + bytes / t.decode_s)) / 1e9;
  }
  c.sources["codecs"] = "bitscale CUDA codecs on 2^24 values, mean of encode and decode (CUDA events, median of 20); " +
                        command;
  if (root) {
    out << fmt::format("  copy {:.1f} GB/s; GEMM TFLOP/s: {}\n", copy / 1e9, achieved);
    for (const auto& [name, rate] : c.codec_gbyte_per_s) out << fmt::format("  codec {:<11} {:.1f} GB/s\n", name, rate);
  }
  c.description = fmt::format("{} GPUs ({}) on {} host(s), calibrated by microbenchmarks on the base profile {}",
                              world.size, gpu, world.nodes, base);
  return c;
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
    const int element = t.type.starts_with("fp32") ? 4 : t.type.starts_with("int8") ? 1 : 2;
    out << fmt::format("  {:>14} {:>6} {:>12.0f} {:>12.0f} {:>10.2f} {:>9.3f} {:>9.3f} {:>10.2f} {:>10.2f}\n",
                       name(t.op), t.type, t.bytes, t.bytes / element, t.median_s * 1e6, algbw,
                       algbw * bus_factor(t.op, world.size), t.min_s * 1e6, t.max_s * 1e6)
        << std::flush;
  };
  std::vector<MpiTiming> timings;
  std::string gpu;
  if (plan.backend == "nccl") {
    gpu = nccl_select_device();
    timings = time_nccl_collectives(plan.ops, plan.types, plan.sizes, plan.warmup, plan.iters, print_row);
  } else if (plan.backend == "gloo") {
    // the file store lives in a fresh directory under the rendezvous parent; one host: loopback TCP
    const auto dir = mpi_shared_temp_dir(o.rendezvous.empty() ? std::filesystem::temp_directory_path().string()
                                                              : o.rendezvous);
    try {
      timings = time_gloo_collectives(plan.ops, plan.types, plan.sizes, plan.warmup, plan.iters, dir,
                                      world.nodes == 1 ? std::string("127.0.0.1") : world.host, print_row);
    } catch (...) {
      mpi_remove_dir(dir);
      throw;
    }
    mpi_remove_dir(dir);
  } else if (!alone) {
    timings = time_mpi_collectives(plan.ops, plan.types, plan.sizes, plan.warmup, plan.iters, print_row);
  }

  const std::string when = today();
  const std::string command = fmt::format("bitscale calibrate --backend {}, {} ranks on {} ({}), {}", plan.backend,
                                          world.size, world.host, gpu.empty() ? cpu_model_name() : gpu, when);
  ClusterProfile c = plan.backend == "nccl" ? measure_gpu(o, world, gpu, command, out)
                                              : measure_host(world, plan, command, out);
  if (!root) return 0;
  c.name = o.out.empty() ? plan.backend + "-calibrated" : std::filesystem::path(o.out).stem().string();
  c.source = o.out;
  c.collective_library = plan.backend;

  // fits: every op and type; allreduce fp32 sets the links
  std::ostringstream csv;
  csv << "op,type,ranks,nodes,bytes,median_s,min_s,max_s,fitted_s,relative_error,fit_r_squared,"
         "fit_max_relative_error\n";
  bool ok = true;
  if (alone) {
    // no link was measured; one rank never uses one: they are given the memory copy rate so predictions at one
    // rank stay defined, and say so
    c.gpus_per_node = 1;
    c.intra_node_gbps = c.hbm_gbyte_per_s * 8;
    c.nics_per_node = 1;
    c.nic_gbps = c.intra_node_gbps;
    for (const char* key : {"intra_node.bandwidth_gbps", "intra_node.latency_us", "inter_node.nic_bandwidth_gbps",
                            "inter_node.latency_us", "inter_node.nics_per_node", "node.gpus_per_node"}) {
      c.sources[key] = "not measured: one rank (a host-only calibration, for one-rank baselines)";
    }
  }
  std::vector<std::pair<CollectiveOp, std::string>> series;
  for (const auto& t : timings) {
    if (std::find(series.begin(), series.end(), std::make_pair(t.op, t.type)) == series.end()) {
      series.emplace_back(t.op, t.type);
    }
  }
  for (const auto& [op, type] : series) {
    {
      std::vector<double> bytes, seconds;
      std::vector<const MpiTiming*> rows;
      for (const auto& t : timings) {
        if (t.op == op && t.type == type) {
          bytes.push_back(t.bytes);
          seconds.push_back(t.median_s);
          rows.push_back(&t);
        }
      }
      if (bytes.size() < 2) continue;
      const bool links = op == CollectiveOp::allreduce && type == (plan.backend == "gloo" ? "fp32/ring" : "fp32");
      PiecewiseFit fit;
      try {
        fit = fit_piecewise(bytes, seconds);
      } catch (const InputError& e) {
        // noise, not bad input: times that do not grow with size fit no line
        err << fmt::format("bitscale: fit {} {}: {}\n", name(op), type, e.what());
        if (links) {
          err << "bitscale: the allreduce that sets the links could not be fitted: no profile written (measure "
                 "larger sizes, or on quieter cores)\n";
          return 1;
        }
        ok = false;
        continue;
      }
      out << fmt::format("# fit {} {}: {} regime{}, R^2 {:.5f}, relative RMS {:.2f}%, max {:.2f}%\n", name(op), type,
                         fit.regimes.size(), fit.regimes.size() == 1 ? "" : "s", fit.r_squared,
                         100 * fit.relative_rms, 100 * fit.max_relative_error);
      for (const auto& g : fit.regimes) {
        out << fmt::format("    {:>12.0f} .. {:<12.0f} B: alpha {:9.3f} us, {:9.3f} GB/s\n", g.min_bytes, g.max_bytes,
                           g.alpha_s * 1e6, g.bytes_per_s / 1e9);
      }
      for (std::size_t i = 0; i < rows.size(); ++i) {
        csv << fmt::format("{},{},{},{},{:.0f},{:.9g},{:.9g},{:.9g},{:.9g},{:.6g},{:.6g},{:.6g}\n", name(op), type,
                           world.size, world.nodes, bytes[i], rows[i]->median_s, rows[i]->min_s, rows[i]->max_s,
                           fit.predict_seconds(bytes[i]), fit.relative_residuals[i], fit.r_squared,
                           fit.max_relative_error);
      }
      if (100 * fit.max_relative_error > plan.max_error) {
        err << fmt::format("bitscale: fit {} {}: max relative error {:.1f}% exceeds --max-error {:g}%\n", name(op),
                           type, 100 * fit.max_relative_error, plan.max_error);
        ok = false;
      }
      // the links come from the bandwidth-optimal allreduce: MPI's own choice, or Gloo's ring
      if (links) {
        c.intra_node_gbps = 1;  // placeholders: the fit sets them
        c.nics_per_node = c.gpus_per_node;
        c.nic_gbps = 1;
        apply_allreduce_fit(c, fit, world.size, world.nodes,
                            fmt::format("allreduce fp32 fit over {} sizes, R^2 {:.4f}, max relative error {:.1f}%; {}",
                                        bytes.size(), fit.r_squared, 100 * fit.max_relative_error, command));
        if (world.nodes == 1) {
          // one host: the network is not measured; it is given the host's links so predictions stay defined
          c.nics_per_node = c.gpus_per_node;
          c.nic_gbps = c.intra_node_gbps;
          c.inter_node_latency_us = c.intra_node_latency_us;
          for (const char* key : {"nics_per_node", "nic_bandwidth_gbps", "latency_us"}) {
            c.sources[std::string("inter_node.") + key] = "not measured (all ranks on one host): the intra-node link";
          }
        }
      }
    }
  }
  return finish_profile(c, ok, o, out, err, {{csv_path(o.out), csv.str()}});
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
