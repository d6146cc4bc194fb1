// bitscale gemm: every linear and conv layer of a workload as its three matrix products (model/compute.hpp
// layer_gemms), each distinct shape timed through cuBLAS on the GPU (calibrate/gemm_cuda.hpp) in every compute
// precision asked for; per precision the workload's products' FLOPs over their summed times, for linear and conv
// layers apart, and that rate over the profile's peak: the efficiency a profile's [efficiency] table holds.
#include "tools/gemm_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "calibrate/gemm_cuda.hpp"
#include "kernels/cuda_device.hpp"
#include "kernels/input_error.hpp"
#include "model/cluster.hpp"
#include "model/compute.hpp"
#include "model/parse.hpp"
#include "model/workload.hpp"
#include "tools/report.hpp"

namespace bitscale {

void add_gemm_command(CLI::App& app, GemmOptions& o) {
  o.command = app.add_subcommand(
      "gemm", "GPU matrix-product rates through cuBLAS at a workload's linear and conv layer shapes, per compute "
              "precision, and their fraction of a profile's peak");
  o.command->add_option("-w,--workload", o.workload, "workload (shipped name, mlp:..., or TOML file)")->required();
  o.command->add_option("-b,--batch", o.batch, "samples per GPU (default: the workload's)");
  o.command->add_option("--computes", o.computes, "compute precisions (LIST of fp32, tf32, fp16, bf16, fp8)")
      ->capture_default_str();
  o.command->add_option("--runs", o.runs, "timed runs per shape (median, after 3 warm-up runs; >= 5)")
      ->capture_default_str();
  o.command->add_option("-c,--cluster", o.cluster, "profile whose peak rates the efficiencies divide by")
      ->capture_default_str();
  o.command->add_option("--csv", o.csv, "every timed shape as CSV (written atomically)");
}

namespace {

struct Use {
  std::string layer;
  LayerKind kind;
  std::string pass;
  GemmShape shape;
};

}  // namespace

int run_gemm(const GemmOptions& o, std::ostream& out, std::ostream& err) {
  const Workload w = find_workload(o.workload);
  const std::int64_t batch = o.batch.empty() ? w.default_batch : parse_int("--batch", o.batch, 1, 1'000'000);
  const int runs = static_cast<int>(parse_int("--runs", o.runs, 5, 10'000));
  std::vector<ComputePrecision> computes;
  for (const auto& n : parse_name_list("--computes", o.computes)) computes.push_back(parse_compute_precision(n, "--computes"));
  const ClusterProfile cluster = find_cluster(o.cluster, "--cluster");
  for (auto p : computes) {
    if (!cluster.supports(p)) {
      throw InputError("", "--computes", std::string(name(p)), "has no peak rate in the profile " + cluster.name);
    }
  }
  if (!o.csv.empty()) check_output_path(o.csv, "--csv");
  std::vector<Use> uses;
  double skipped_flops = 0;
  for (const auto& l : w.layers) {
    if (l.kind != LayerKind::linear && l.kind != LayerKind::conv) continue;
    const auto g = layer_gemms(l, batch);
    if (!g) {
      skipped_flops += 3.0 * l.forward_flops * static_cast<double>(batch);
      continue;
    }
    uses.push_back({l.name, l.kind, "forward", g->forward});
    uses.push_back({l.name, l.kind, "input_gradient", g->input_gradient});
    uses.push_back({l.name, l.kind, "weight_gradient", g->weight_gradient});
  }
  if (uses.empty()) throw InputError("", "--workload", o.workload, "has no linear or conv layer to time");
  if (!cuda_available()) {
    throw InputError("", "device", "", cuda_compiled() ? "no CUDA device is present" : "bitscale was built without CUDA");
  }
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> distinct;
  for (const auto& u : uses) distinct.emplace(u.shape.m, u.shape.n, u.shape.k);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  out << fmt::format("{} at batch {} on {}: {} products in {} linear and conv layers, {} distinct shapes, median of {} "
                     "runs each on random operands; efficiency = rate / {} peak\n",
                     w.name, batch, cuda_device_name(), uses.size(), uses.size() / 3, distinct.size(), runs,
                     cluster.name);
  if (skipped_flops > 0) out << fmt::format("  ({:.3g} FLOP of layers with no product shape not timed)\n", skipped_flops);
  out << fmt::format("{:<8} {:>10} {:>11} {:>11} {:>11} {:>9} {:>9}\n", "compute", "time ms", "all TFLOP/s",
                     "linear", "conv", "eff lin", "eff conv");
  std::ostringstream csv;
  csv << "compute,layer,kind,pass,m,n,k,flops,seconds,tflops_per_s\n";
  for (auto p : computes) {
    GemmTimer timer(p);
    std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, double> seconds;
    std::size_t done = 0;
    for (const auto& key : distinct) {
      if (tty) err << fmt::format("\r  {} shape {}/{} ...", name(p), ++done, distinct.size()) << std::flush;
      const GemmShape s{std::get<0>(key), std::get<1>(key), std::get<2>(key)};
      seconds[key] = timer.seconds(s, runs);
    }
    if (tty) err << "\r" << std::string(40, ' ') << "\r" << std::flush;
    double time[2] = {0, 0}, flops[2] = {0, 0};
    for (const auto& u : uses) {
      const double t = seconds.at(std::make_tuple(u.shape.m, u.shape.n, u.shape.k));
      const int i = u.kind == LayerKind::conv ? 1 : 0;
      time[i] += t;
      flops[i] += u.shape.flops();
      csv << fmt::format("{},{},{},{},{},{},{},{:.6g},{:.6e},{:.4f}\n", name(p), u.layer, name(u.kind), u.pass,
                         u.shape.m, u.shape.n, u.shape.k, u.shape.flops(), t, u.shape.flops() / t / 1e12);
    }
    const double peak = cluster.peak_flops(p);
    auto rate = [&](int i) { return time[i] > 0 ? flops[i] / time[i] : 0.0; };
    auto cell = [](double v, const char* f) { return v > 0 ? fmt::format(fmt::runtime(f), v) : std::string("-"); };
    const double all = (flops[0] + flops[1]) / (time[0] + time[1]);
    out << fmt::format("{:<8} {:>10.3f} {:>11.1f} {:>11} {:>11} {:>9} {:>9}\n", name(p), (time[0] + time[1]) * 1e3,
                       all / 1e12, cell(rate(0) / 1e12, "{:.1f}"), cell(rate(1) / 1e12, "{:.1f}"),
                       cell(rate(0) / peak, "{:.3f}"), cell(rate(1) / peak, "{:.3f}"))
        << std::flush;
  }
  if (!o.csv.empty()) write_file_atomically(o.csv, csv.str(), "--csv");
  return 0;
}

}  // namespace bitscale
