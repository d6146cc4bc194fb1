#include "tools/calibrate_host.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "calibrate/fit.hpp"
#include "calibrate/link_fit.hpp"
#include "kernels/input_error.hpp"
#include "kernels/wire_format.hpp"
#include "model/compute.hpp"

namespace bitscale {

ClusterProfile host_profile(const HostRates& r, const HostEngine& e, const HostScope& scope,
                            const std::string& command) {
  ClusterProfile c;
  c.description = fmt::format("{} ranks on {} host(s) {}, calibrated by microbenchmarks", scope.ranks, scope.nodes,
                              scope.host);
  c.gpu_model = fmt::format("{} (one rank's share)", scope.cpu);
  c.gpu_memory_gib = scope.memory_gib;
  c.memory_reserved_gib = 0;
  c.hbm_gbyte_per_s = r.memcpy_bytes_per_s / 1e9;
  c.codec_hbm_efficiency = 1.0;
  c.compute_during_comm = r.compute_during_comm;
  c.comm_during_compute = r.comm_during_compute;
  c.rank_skew = r.rank_skew;
  c.comm_launch_s = r.comm_launch_s;
  c.probe_gflops = r.probe_gflops();
  c.sources["gpu.probe_gflops"] =
      c.probe_gflops > 0
          ? (r.probe_gflops_middle > 0
                 ? fmt::format("the host probe, {} fp32 GEMM 512^3 sustained (5 blocks of at least 50 ms, the "
                               "median block) on every rank at once, median over ranks, taken just before each of "
                               "the three measurements of the workloads' layers ({:.2f}, {:.2f} and {:.2f} GFLOP/s), "
                               "the median kept as the layers' rates are; the runs take the same probe (validate's "
                               "host speed); {}",
                               e.gemm_probe, r.probe_gflops_early, r.probe_gflops_middle, r.probe_gflops_late, command)
                 : fmt::format("the host probe, {} fp32 GEMM 512^3 sustained (5 blocks of at least 50 ms, the "
                               "median block) on every rank at once, median over ranks, taken just before each of "
                               "the two measurements of the workloads' layers ({:.2f} and {:.2f} GFLOP/s), the "
                               "faster kept as the layers' rates were; the runs take the same probe (validate's "
                               "host speed); {}",
                               e.gemm_probe, r.probe_gflops_early, r.probe_gflops_late, command))
          : "not measured";
  c.sources["gpu.rank_skew"] =
      !r.contention ? "not measured (one rank): none"
      : !e.rank_skew_timing.empty()
          ? e.rank_skew_timing + "; " + command
          : "the slowest rank's time over the mean of every rank's for three passes of " + e.kernels +
                " linear layer 1024 -> 1024 started together after a barrier, minus 1, median of 9 rounds" +
                e.rank_skew_rounds + "; " + command;
  const std::string none = "not measured (one rank, or an MPI without MPI_THREAD_SERIALIZED): taken as none";
  const std::string joint =
      e.kernels + " linear layer 1024 -> 1024 (" + std::to_string(e.contention_samples) + " samples) and one " +
      e.comm_load +
      (r.comm_launch_s > 0 ? " posted to a communication thread asleep until woken" : "") +
      " started together on every rank, each also timed alone in the same round; while both run (o, the shorter "
      "of the two together" +
      (r.comm_launch_s > 0 ? " less the launch, [gpu] comm_launch_s, during which the allreduce ran alone" : "") +
      ") each goes at a fraction of its own speed: alone = fraction x o + (together - o); median of " +
      std::to_string(e.contention_rounds) + " rounds, then over ranks; " + command;
  c.sources["gpu.comm_during_compute"] = r.contention ? "the allreduce's fraction: " + joint : none;
  c.sources["gpu.compute_during_comm"] = r.contention ? "the linear layer's fraction: " + joint : none;
  if (r.comm_launch_s > 0) {
    c.sources["gpu.comm_launch_s"] =
        "in the same rounds, the compute thread's time from posting the allreduce to a communication thread asleep "
        "on a condition variable to its next instruction (the fractions above are of the overlap after it, o "
        "less the launch); the mean over rounds (a scheduler slice lost in some, none in others), then the median "
        "over ranks; " + command;
  }
  for (const auto& [format, pair] : r.contention_by_format) {
    c.contention_by_format[format] = pair;
    const std::string load = fmt::format(fmt::runtime(e.format_comm_load), format);
    c.sources["contention." + format] =
        "as [gpu] compute_during_comm and comm_during_compute, with one " + load + " instead: " + e.kernels +
        " linear layer 1024 -> 1024 (" + std::to_string(e.contention_samples) +
        " samples) and the allreduce started together on every rank, each also timed "
        "alone in the same round; median of 5 rounds, then over ranks; " + command;
  }
  const double gemm32 = r.gemm_flops_per_s[static_cast<int>(ComputePrecision::fp32)];
  for (std::size_t p = 0; p < r.gemm_flops_per_s.size(); ++p) c.peak_tflops[p] = r.gemm_flops_per_s[p] / 1e12;
  c.default_compute = ComputePrecision::fp32;
  c.efficiency.fill(1.0);
  c.efficiency[static_cast<int>(LayerKind::linear)] = std::min(1.0, r.linear_flops_per_s / gemm32);
  c.efficiency[static_cast<int>(LayerKind::conv)] = std::min(1.0, r.conv_flops_per_s / gemm32);
  for (const auto& [name, rate] : r.codec_bytes_per_s) c.codec_gbyte_per_s[name] = rate / 1e9;
  for (const auto& [name, rate] : r.codec_encode_bytes_per_s) c.codec_encode_gbyte_per_s[name] = rate / 1e9;
  for (const auto& [name, rate] : r.codec_decode_bytes_per_s) c.codec_decode_gbyte_per_s[name] = rate / 1e9;
  c.gpus_per_node = scope.ranks_per_node;
  c.intra_node_kind = "shared-memory";
  c.inter_node_kind = scope.nodes > 1 ? "network" : "none (one host)";
  c.sources["default_compute"] = "CPU ranks compute in fp32";
  c.sources["gpu.model"] = "/proc/cpuinfo; " + command;
  c.sources["gpu.memory_gib"] = "/proc/meminfo MemTotal shared by the host's ranks";
  c.sources["gpu.memory_reserved_gib"] = "none reserved on a CPU rank";
  c.sources["gpu.hbm_gbyte_per_s"] = "memcpy of 64 MiB, bytes read + written, median over ranks run together; " + command;
  c.sources["gpu.codec_hbm_efficiency"] = "unused: [codecs] holds the measured codec rates";
  c.sources["gpu.peak_tflops"] = e.gemm + ", median over ranks run together; " + command;
  c.sources["efficiency"] = "1 for the other kinds: the peak rates are the achieved GEMM rates";
  c.sources["efficiency.linear"] = e.kernels + " linear layer 1024 -> 1024, 256 samples, forward + backward (3x the "
                                   "forward FLOPs) over the fp32 GEMM rate, median over ranks run together; " + command;
  c.sources["efficiency.conv"] = e.kernels + " " + e.conv + " 64 -> 64 channels on 16x16, 32 samples, forward + "
                                 "backward over the fp32 GEMM rate, median over ranks run together; " + command;
  c.sources["codecs"] = e.codecs + ", median over ranks run together; " + command;
  if (!r.codec_encode_bytes_per_s.empty()) {
    c.sources["codec_encode"] = "the encode alone (bytes read + written over its time) in the same measurement as "
                                "[codecs], median over ranks run together; " + command;
  }
  if (!r.codec_decode_bytes_per_s.empty()) {
    c.sources["codec_decode"] = "the decode alone (bytes read + written over its time) in the same measurement as "
                                "[codecs], median over ranks run together; " + command;
  }
  for (const auto& [key, rate] : r.layer_flops_per_s) c.layer_gflops[key] = rate / 1e9;
  if (r.layer_spread > 0) {
    c.uncertainty.compute = std::min(1.0, std::max(0.01, r.layer_spread));
    c.sources["uncertainty"] =
        r.probe_gflops_middle > 0
            ? fmt::format("compute {:.3f}: the spread of the workloads' layer rates over three measurements (before "
                          "the collectives, after them and at the end), median over the layers of the sample "
                          "deviation of the three ln(rate) / sqrt(ln 2); memory and codecs not stated",
                          c.uncertainty.compute)
            : fmt::format("compute {:.3f}: the spread of the workloads' layer rates between two measurements "
                          "(before and after the collectives), median over the layers of |ln(first / second)| / "
                          "(0.6745 sqrt 2); memory and codecs not stated",
                          c.uncertainty.compute);
  }
  if (!c.layer_gflops.empty()) {
    c.sources["layer_rates"] = e.layer_kernels + ", forward + backward (3x the forward FLOPs) at the shapes and "
                               "default batch of " + r.layer_workloads +
                               ", " + (e.layer_timing.empty() ? std::string("median of 5 after a warm-up") : e.layer_timing) +
                               ", median over ranks run together; " + command;
  }
  return c;
}

void set_links_of_one_rank(ClusterProfile& c) {
  c.gpus_per_node = 1;
  c.intra_node_gbps = c.hbm_gbyte_per_s * 8;
  c.nics_per_node = 1;
  c.nic_gbps = c.intra_node_gbps;
  for (const char* key : {"intra_node.bandwidth_gbps", "intra_node.latency_us", "inter_node.nic_bandwidth_gbps",
                          "inter_node.latency_us", "inter_node.nics_per_node", "node.gpus_per_node"}) {
    c.sources[key] = "not measured: one rank (a host-only calibration, for one-rank baselines)";
  }
}

void print_host_rates(const HostRates& r, std::ostream& out) {
  const auto gemm = [&](ComputePrecision p) { return r.gemm_flops_per_s[static_cast<int>(p)] / 1e9; };
  out << fmt::format("  memcpy {:.2f} GB/s (read + written); GEMM fp32 {:.2f}, fp16 {:.3f}, bf16 {:.3f} GFLOP/s\n",
                     r.memcpy_bytes_per_s / 1e9, gemm(ComputePrecision::fp32), gemm(ComputePrecision::fp16),
                     gemm(ComputePrecision::bf16));
  out << fmt::format("  layers (forward + backward, fp32): linear 1024x1024 {:.2f}, conv 3x3 64ch 16x16 {:.2f} GFLOP/s\n",
                     r.linear_flops_per_s / 1e9, r.conv_flops_per_s / 1e9);
  if (r.contention) {
    out << fmt::format("  linear 1024x1024 and an allreduce of {:g} MiB started together: the linear at {:.3f} of its "
                       "rate alone, the allreduce at {:.3f} of its speed alone\n",
                       r.contention_bytes / 1048576, r.compute_during_comm, r.comm_during_compute);
    if (r.comm_launch_s > 0) {
      out << fmt::format("  posting the allreduce to the sleeping communication thread took the compute thread "
                         "{:.3f} ms\n",
                         1e3 * r.comm_launch_s);
    }
    for (const auto& [format, pair] : r.contention_by_format) {
      out << fmt::format("  the same with an allreduce of {}: the linear at {:.3f}, the allreduce at {:.3f}\n", format,
                         pair.compute_during_comm, pair.comm_during_compute);
    }
    out << fmt::format("  the slowest rank behind the mean on the same compute: {:.1f}%\n", 100 * r.rank_skew);
  }
  for (const auto& [name, rate] : r.codec_bytes_per_s) {
    const auto enc = r.codec_encode_bytes_per_s.find(name), dec = r.codec_decode_bytes_per_s.find(name);
    out << fmt::format("  codec {:<11} {:.3f} GB/s", name, rate / 1e9);
    if (enc != r.codec_encode_bytes_per_s.end() && dec != r.codec_decode_bytes_per_s.end()) {
      out << fmt::format(" (encode {:.3f}, decode {:.3f})", enc->second / 1e9, dec->second / 1e9);
    }
    out << "\n";
  }
  for (const auto& [key, rate] : r.layer_flops_per_s) {
    if (const auto m = r.layer_flops_measured.find(key); m != r.layer_flops_measured.end()) {
      out << fmt::format(
          "  layer {:<40} {:.2f} GFLOP/s (forward + backward; the median of {:.2f}, {:.2f} and {:.2f})\n", key,
          rate / 1e9, m->second[0] / 1e9, m->second[1] / 1e9, m->second[2] / 1e9);
    } else {
      out << fmt::format("  layer {:<40} {:.2f} GFLOP/s (forward + backward)\n", key, rate / 1e9);
    }
  }
  if (r.probe_gflops_middle > 0) {
    out << fmt::format("  host probe (fp32 GEMM 512^3, sustained): {:.2f} GFLOP/s before the first layer "
                       "measurement, {:.2f} before the second, {:.2f} before the third\n", r.probe_gflops_early,
                       r.probe_gflops_middle, r.probe_gflops_late);
  } else if (r.probe_gflops() > 0) {
    out << fmt::format("  host probe (fp32 GEMM 512^3, sustained): {:.2f} GFLOP/s before the first layer "
                       "measurement, {:.2f} before the second\n", r.probe_gflops_early, r.probe_gflops_late);
  }
  out << std::flush;
}

std::string measurements_csv_path(const std::string& profile) {
  return std::filesystem::path(profile).replace_extension(".csv").string();
}

namespace {

// "fp16/ring" -> ("fp16", "/ring")
std::pair<std::string, std::string> split_type(const std::string& type) {
  const auto slash = type.find('/');
  if (slash == std::string::npos) return {type, ""};
  return {type.substr(0, slash), type.substr(slash)};
}

bool is_wire_format(const std::string& name) {
  return std::any_of(wire_formats().begin(), wire_formats().end(), [&](const auto& f) { return f.name == name; });
}

}  // namespace

SeriesFits fit_series(const std::vector<MpiTiming>& timings, const std::string& links_type, int ranks, int nodes,
                      double max_error, const std::string& command, ClusterProfile& c, std::ostream& out,
                      std::ostream& err) {
  SeriesFits result;
  result.csv =
      "op,type,ranks,nodes,bytes,median_s,min_s,max_s,fitted_s,relative_error,fit_r_squared,fit_max_relative_error\n";
  std::vector<std::pair<CollectiveOp, std::string>> series;
  for (const auto& t : timings) {
    if (std::find(series.begin(), series.end(), std::make_pair(t.op, t.type)) == series.end()) {
      series.emplace_back(t.op, t.type);
    }
  }
  const auto points = [&](CollectiveOp op, const std::string& type) {
    std::vector<const MpiTiming*> rows;
    for (const auto& t : timings) {
      if (t.op == op && t.type == type) rows.push_back(&t);
    }
    return rows;
  };
  for (const auto& [op, type] : series) {
    const auto rows = points(op, type);
    if (rows.size() < 2) continue;
    std::vector<double> bytes, seconds;
    for (const auto* t : rows) {
      bytes.push_back(t->bytes);
      seconds.push_back(t->median_s);
    }
    const bool links = op == CollectiveOp::allreduce && type == links_type;
    PiecewiseFit fit;
    try {
      fit = fit_piecewise(bytes, seconds);
    } catch (const InputError& e) {
      // noise, not bad input: times that do not grow with size fit no line
      err << fmt::format("bitscale: fit {} {}: {}\n", name(op), type, e.what());
      if (links) {
        err << "bitscale: the allreduce that sets the links could not be fitted: no profile written (measure "
               "larger sizes, or on quieter cores)\n";
        result.links_failed = true;
        return result;
      }
      result.ok = false;
      continue;
    }
    out << fmt::format("# fit {} {}: {} regime{}, R^2 {:.5f}, relative RMS {:.2f}%, max {:.2f}%\n", name(op), type,
                       fit.regimes.size(), fit.regimes.size() == 1 ? "" : "s", fit.r_squared, 100 * fit.relative_rms,
                       100 * fit.max_relative_error);
    for (const auto& g : fit.regimes) {
      out << fmt::format("    {:>12.0f} .. {:<12.0f} B: alpha {:9.3f} us, {:9.3f} GB/s\n", g.min_bytes, g.max_bytes,
                         g.alpha_s * 1e6, g.bytes_per_s / 1e9);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
      result.csv += fmt::format("{},{},{},{},{:.0f},{:.9g},{:.9g},{:.9g},{:.9g},{:.6g},{:.6g},{:.6g}\n", name(op), type,
                                ranks, nodes, bytes[i], rows[i]->median_s, rows[i]->min_s, rows[i]->max_s,
                                fit.predict_seconds(bytes[i]), fit.relative_residuals[i], fit.r_squared,
                                fit.max_relative_error);
    }
    if (100 * fit.max_relative_error > max_error) {
      err << fmt::format("bitscale: fit {} {}: max relative error {:.1f}% exceeds --max-error {:g}%\n", name(op), type,
                         100 * fit.max_relative_error, max_error);
      result.ok = false;
    }
    if (links) {
      c.intra_node_gbps = 1;  // placeholders: the fit sets them
      c.nics_per_node = c.gpus_per_node;
      c.nic_gbps = 1;
      apply_allreduce_fit(c, fit, ranks, nodes,
                          fmt::format("allreduce fp32 fit over {} sizes, R^2 {:.4f}, max relative error {:.1f}%; {}",
                                      bytes.size(), fit.r_squared, 100 * fit.max_relative_error, command));
      // the fit's residuals are the links' uncertainty: one relative standard deviation each for the bandwidth and
      // the latency of the level measured (the network across nodes, else the node's links)
      const double spread = std::max(fit.relative_rms, 0.01);
      (nodes > 1 ? c.uncertainty.network_bandwidth : c.uncertainty.node_bandwidth) = spread;
      (nodes > 1 ? c.uncertainty.network_latency : c.uncertainty.node_latency) = spread;
      // what the source said of the rest, without an earlier fit's part (a profile fitted again, --refit)
      std::string rest = c.sources.contains("uncertainty") ? c.sources.at("uncertainty") : "";
      if (rest.starts_with("calibrated: ")) {
        const auto end = rest.find("fit; ");
        rest = end == std::string::npos ? "" : rest.substr(end + 5);
      }
      c.sources["uncertainty"] = fmt::format(
          "calibrated: {} bandwidth and latency {:.3f} each, the relative RMS residual of the allreduce fp32 fit; {}",
          nodes > 1 ? "network" : "node link", spread, rest.empty() ? "compute, memory and codecs not stated" : rest);
      if (nodes == 1) {
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

  // sums slower than fp32's: the extra time of a format's allreduce over fp32's at the same bytes
  const auto [links_format, suffix] = split_type(links_type);
  std::string formats;
  for (const auto& [op, type] : series) {
    const auto [format, type_suffix] = split_type(type);
    if (op != CollectiveOp::allreduce || type == links_type || type_suffix != suffix || !is_wire_format(format)) continue;
    const auto base = points(op, links_type);
    std::vector<std::pair<double, double>> extras;  // (bytes, seconds over fp32's) at each shared size, ascending
    for (const auto* t : points(op, type)) {
      for (const auto* b : base) {
        if (b->bytes == t->bytes) extras.emplace_back(t->bytes, t->median_s - b->median_s);
      }
    }
    // ascending, one point per size: a size listed twice (rows repeated in a file) counts once, at its mean
    std::sort(extras.begin(), extras.end());
    std::vector<std::pair<double, double>> merged;
    for (std::size_t i = 0, j = 0; i < extras.size(); i = j) {
      double sum = 0;
      for (j = i; j < extras.size() && extras[j].first == extras[i].first; ++j) sum += extras[j].second;
      merged.emplace_back(extras[i].first, sum / static_cast<double>(j - i));
    }
    extras = std::move(merged);
    const std::size_t shared = extras.size();
    if (shared < 3) continue;
    // one rate: seconds per wire byte by least squares through the origin, and the share of the extra's variation
    // it explains (1 - SSE / SS around 0); a format whose extra it does not explain is no slower than fp32 here
    double nn = 0, ne = 0, ee = 0;
    for (const auto& [n, e] : extras) {
      nn += n * n;
      ne += n * e;
      ee += e * e;
    }
    const double k = ne / nn;
    const double p = static_cast<double>(ranks);
    const double explained = ee > 0 ? 1.0 - (ee - k * ne) / ee : 0.0;
    if (!(k > 0) || explained < 0.5) {
      out << fmt::format("# sums {}: no slower than fp32's here (extra {:.3g} s per byte, {:.0f}% explained): none "
                         "added\n", format, k, 100 * explained);
      continue;
    }
    const double rate = (p - 1) / p / k;
    c.reduction_gbyte_per_s[format] = rate / 1e9;
    // and the cost at each size: a sum's cost per byte is not one number. MPI's sums add nothing below 512 KiB
    // (hidden behind its latency) and 1.3-1.9x the median per byte at 4-8 MiB; gloo's peak at 0.7-1.6 MB and fall
    // to 0.8-0.9x at 8 MiB (docs/validation.md item 30). Each size's own seconds per summed byte (negative
    // extras, timing noise, count as none; at most the profile's 1e6 ns), each the median of the three nearest
    // sizes (it and its two neighbours; at either end the three there), so one noisy size cannot set a bucket's
    // cost, not even beyond the ends, where the end's cost holds
    std::vector<double> own;
    for (const auto& [n, e] : extras) own.push_back(std::min(1e6, std::max(0.0, e / n) * p / (p - 1) * 1e9));
    ReductionCurve curve;
    for (std::size_t i = 0; i < shared; ++i) {
      const std::size_t first = std::min(i == 0 ? 0 : i - 1, shared - 3);  // shared >= 3
      std::vector<double> window(own.begin() + first, own.begin() + first + 3);
      std::sort(window.begin(), window.end());
      curve.bytes.push_back(extras[i].first);
      curve.ns_per_byte.push_back(window[1]);
    }
    formats += (formats.empty() ? "" : ", ") + fmt::format("{} {:.3f} GB/s", format, rate / 1e9);
    out << fmt::format("# sums {}: allreduce {:.3g} s per wire byte over fp32's at {} shared sizes ({:.0f}% of the "
                       "extra explained): {:.3f} GB/s of wire values; by size {:.3g} to {:.3g} ns per summed byte\n",
                       format, k, shared, 100 * explained, rate / 1e9,
                       *std::min_element(curve.ns_per_byte.begin(), curve.ns_per_byte.end()),
                       *std::max_element(curve.ns_per_byte.begin(), curve.ns_per_byte.end()));
    c.reduction_by_size[format] = std::move(curve);
  }
  if (!c.reduction_gbyte_per_s.empty()) {
    c.sources["reductions"] = fmt::format(
        "each format's allreduce time minus the fp32 allreduce's at the same bytes, fitted as (p-1)/p x n / rate "
        "through the origin ({}); {}",
        formats, command);
    c.sources["reduction_sizes"] = fmt::format(
        "each format's allreduce time minus the fp32 allreduce's at each size, per byte of (p-1)/p x n, the median "
        "of the three nearest sizes; {}",
        command);
  }
  return result;
}

}  // namespace bitscale
