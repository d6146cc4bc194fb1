// bitscale calibrate --backend mpi: run under mpirun, one process per rank. Every rank measures; rank 0 prints,
// fits and writes the profile and its measurements (PROFILE.csv beside PROFILE.toml).
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "calibrate/fit.hpp"
#include "calibrate/host_bench.hpp"
#include "calibrate/link_fit.hpp"
#include "calibrate/mpi_collectives.hpp"
#include "kernels/input_error.hpp"
#include "model/cluster.hpp"
#include "model/parse.hpp"
#include "tools/calibrate_command.hpp"
#include "tools/report.hpp"

namespace bitscale {

std::string today();

namespace {

struct MpiPlan {
  std::vector<double> sizes;
  std::vector<CollectiveOp> ops;
  std::vector<std::string> types;
  int iters = 20, warmup = 5;
  double max_error = 25;
};

MpiPlan parse_plan(const CalibrateOptions& o) {
  MpiPlan p;
  for (auto s : parse_int_list("--sizes", o.sizes, 1, std::int64_t{1} << 34)) p.sizes.push_back(static_cast<double>(s));
  for (const auto& op : parse_name_list("--ops", o.ops)) p.ops.push_back(parse_collective_op(op, "--ops"));
  p.types = parse_name_list("--types", o.types);
  for (const auto& t : p.types) {
    if (t != "fp32" && t != "fp16" && t != "bf16" && t != "int8") {
      throw InputError("", "--types", t, "valid for the mpi backend: fp32, fp16, bf16, int8");
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
  return p;
}

std::string csv_path(const std::string& out) {
  std::filesystem::path p(out);
  p.replace_extension(".csv");
  return p.string();
}

int run_mpi(const CalibrateOptions& o, const MpiPlan& plan, std::ostream& out, std::ostream& err) {
  const auto world = mpi_world();
  const bool root = world.rank == 0;
  if (world.size < 2) {
    throw InputError("", "--backend", "mpi",
                     "needs >= 2 processes: run it under mpirun (mpirun -np 2 bitscale calibrate --backend mpi ...)");
  }
  if (root) {
    out << fmt::format("# bitscale calibrate --backend mpi: {} ranks on {} host{} ({}), {} iterations after {} "
                       "warm-up, time = slowest rank, median\n",
                       world.size, world.nodes, world.nodes == 1 ? "" : "s", world.host, plan.iters, plan.warmup);
    out << fmt::format("# {:>14} {:>6} {:>12} {:>12} {:>10} {:>9} {:>9} {:>10} {:>10}\n", "op", "type", "size (B)",
                       "count", "time (us)", "algbw", "busbw", "min (us)", "max (us)")
        << std::flush;
  }
  const auto timings = time_mpi_collectives(plan.ops, plan.types, plan.sizes, plan.warmup, plan.iters,
                                            [&](const MpiTiming& t) {
    const double algbw = t.bytes / t.median_s / 1e9;
    out << fmt::format("  {:>14} {:>6} {:>12.0f} {:>12.0f} {:>10.2f} {:>9.3f} {:>9.3f} {:>10.2f} {:>10.2f}\n",
                       name(t.op), t.type, t.bytes, t.bytes / (t.type == "fp32" ? 4 : t.type == "int8" ? 1 : 2),
                       t.median_s * 1e6, algbw, algbw * bus_factor(t.op, world.size), t.min_s * 1e6, t.max_s * 1e6)
        << std::flush;
  });

  // host benchmarks, every rank at once: what one rank gets while the others run too
  if (root) out << "# host: memcpy, GEMM (Eigen, one thread) and codecs, all ranks at the same time\n" << std::flush;
  const double memcpy_rate = mpi_median(memcpy_bytes_per_s(std::size_t{64} << 20, 5));
  const double gemm32 = mpi_median(gemm_flops(ComputePrecision::fp32, 512, 3));
  const double gemm16 = mpi_median(gemm_flops(ComputePrecision::fp16, 256, 3));
  const double gemmbf = mpi_median(gemm_flops(ComputePrecision::bf16, 256, 3));
  std::map<std::string, double> codec_rates;
  for (const auto& f : wire_formats()) {
    if (f.name == "fp32") continue;
    const auto r = codec_rate_cpu(f, std::size_t{1} << 22, 3);
    codec_rates[f.name] = mpi_median(0.5 * (r.encode_bytes_per_s + r.decode_bytes_per_s));
  }
  if (!root) return 0;
  out << fmt::format("  memcpy {:.2f} GB/s (read + written); GEMM fp32 {:.2f}, fp16 {:.3f}, bf16 {:.3f} GFLOP/s\n",
                     memcpy_rate / 1e9, gemm32 / 1e9, gemm16 / 1e9, gemmbf / 1e9);
  for (const auto& [name, rate] : codec_rates) out << fmt::format("  codec {:<11} {:.3f} GB/s\n", name, rate / 1e9);

  const std::string when = today();
  const std::string command = fmt::format("bitscale calibrate --backend mpi, {} ranks on {} ({}), {}", world.size,
                                          world.host, cpu_model_name(), when);
  ClusterProfile c;
  c.name = o.out.empty() ? "mpi-calibrated" : std::filesystem::path(o.out).stem().string();
  c.description = fmt::format("{}: {} MPI ranks on {} host(s) {}, calibrated by microbenchmarks", c.name, world.size,
                              world.nodes, world.host);
  c.source = o.out;
  c.gpu_model = fmt::format("{} (one rank's share)", cpu_model_name().empty() ? "CPU" : cpu_model_name());
  c.gpu_memory_gib = std::max(1.0, host_memory_gib() / world.ranks_per_node);
  c.memory_reserved_gib = 0;
  c.hbm_gbyte_per_s = memcpy_rate / 1e9;
  c.codec_hbm_efficiency = 1.0;
  c.peak_tflops[static_cast<int>(ComputePrecision::fp32)] = gemm32 / 1e12;
  c.peak_tflops[static_cast<int>(ComputePrecision::fp16)] = gemm16 / 1e12;
  c.peak_tflops[static_cast<int>(ComputePrecision::bf16)] = gemmbf / 1e12;
  c.default_compute = ComputePrecision::fp32;
  c.efficiency.fill(1.0);
  for (const auto& [name, rate] : codec_rates) c.codec_gbyte_per_s[name] = rate / 1e9;
  c.gpus_per_node = world.ranks_per_node;
  c.intra_node_kind = "shared-memory";
  c.inter_node_kind = world.nodes > 1 ? "network" : "none (one host)";
  c.collective_library = "mpi";
  c.sources["default_compute"] = "CPU ranks compute in fp32";
  c.sources["gpu.model"] = "/proc/cpuinfo; " + command;
  c.sources["gpu.memory_gib"] = "/proc/meminfo MemTotal shared by the host's ranks";
  c.sources["gpu.memory_reserved_gib"] = "none reserved on a CPU rank";
  c.sources["gpu.hbm_gbyte_per_s"] = "memcpy of 64 MiB, bytes read + written, median over ranks run together; " + command;
  c.sources["gpu.codec_hbm_efficiency"] = "unused: [codecs] holds the measured codec rates";
  c.sources["gpu.peak_tflops"] = "Eigen GEMM, one thread per rank, fp32 512^3, fp16 and bf16 256^3 (emulated on "
                                 "this CPU), median over ranks run together; " + command;
  c.sources["efficiency"] = "1: the peak rates are the achieved GEMM rates";
  c.sources["codecs"] = "bitscale codecs on 2^22 gradient-like values (16 MiB), mean of encode and decode, bytes read + "
                        "written per second, median over ranks run together; " + command;

  // fits: every op and type; allreduce fp32 sets the links
  std::ostringstream csv;
  csv << "op,type,ranks,nodes,bytes,median_s,min_s,max_s,fitted_s,relative_error,fit_r_squared,"
         "fit_max_relative_error\n";
  bool ok = true;
  for (auto op : plan.ops) {
    for (const auto& type : plan.types) {
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
      const auto fit = fit_piecewise(bytes, seconds);
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
      if (op == CollectiveOp::allreduce && type == "fp32") {
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
  c.validate();
  if (!ok && !o.force) {
    err << "bitscale: no profile written (a fit missed --max-error; --force writes it anyway)\n";
    return 1;
  }
  if (o.out.empty()) {
    out << '\n' << to_toml(c);
  } else {
    write_file_atomically(o.out, to_toml(c), "--out");
    write_file_atomically(csv_path(o.out), csv.str(), "--out");
    err << fmt::format("bitscale: wrote profile {} to {} and its measurements to {}\n", c.name, o.out,
                       csv_path(o.out));
  }
  return 0;
}

}  // namespace

int calibrate_mpi(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  const auto plan = parse_plan(o);  // bad flags fail before MPI starts, the same on every rank
  if (!o.out.empty()) {
    // a bad --out fails now, not after the measurements
    std::error_code ec;
    const auto dir = std::filesystem::path(o.out).has_parent_path() ? std::filesystem::path(o.out).parent_path()
                                                                     : std::filesystem::path(".");
    if (!std::filesystem::is_directory(dir, ec)) throw InputError("", "--out", o.out, "its directory does not exist");
  }
  MpiSession session;
  int code = 0;
  std::string message;
  try {
    code = run_mpi(o, plan, out, err);
  } catch (const InputError& e) {
    code = 2;
    message = e.what();
  }
  code = mpi_agree(code);
  if (!message.empty() && mpi_world().rank == 0) err << "bitscale: " << message << '\n';
  return code;
}

}  // namespace bitscale
