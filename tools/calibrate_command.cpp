// bitscale calibrate: fits collective timings into a cluster profile (see calibrate/ for the fits and the
// benchmarks). Output: a table per fit with R^2 and the relative residual of every point, then the profile,
// written atomically, only when every fit is within --max-error (or with --force).
#include "tools/calibrate_command.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <sstream>

#include "calibrate/fit.hpp"
#include "calibrate/link_fit.hpp"
#include "calibrate/nccl_tests_log.hpp"
#include "kernels/input_error.hpp"
#include "model/cluster.hpp"
#include "model/parse.hpp"
#include "model/toml_reader.hpp"
#include "tools/report.hpp"

namespace bitscale {

std::string today() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%d}", fmt::gmtime(now));
}

// The shipped profile whose GPU model (its first word, e.g. "A100") is a word of the log's GPU name.
std::optional<std::string> profile_for_gpu(const std::string& gpu) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : gpu + " ") {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      word += ch;
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  for (auto name : shipped_cluster_names()) {
    const auto c = find_cluster(name);
    const auto key = c.gpu_model.substr(0, c.gpu_model.find('-'));
    if (std::find(words.begin(), words.end(), key) != words.end()) return std::string(name);
  }
  return std::nullopt;
}

namespace {

struct FitReport {
  PiecewiseFit fit;
  bool ok = true;
};

// Fits the points, prints the regimes, the quality and every point's residual.
FitReport fit_and_report(const std::string& title, CollectiveOp op, std::int64_t ranks,
                         const std::vector<double>& bytes, const std::vector<double>& seconds, double max_error,
                         std::ostream& out) {
  FitReport r;
  r.fit = fit_piecewise(bytes, seconds);
  const double factor = bus_factor(op, ranks);
  out << title << '\n';
  for (const auto& g : r.fit.regimes) {
    out << fmt::format("  regime {:>12.0f} .. {:<12.0f} B: alpha {:9.3f} us, bandwidth {:9.3f} GB/s (busbw {:.3f})\n",
                       g.min_bytes, g.max_bytes, g.alpha_s * 1e6, g.bytes_per_s / 1e9, g.bytes_per_s * factor / 1e9);
  }
  out << fmt::format("  fit: R^2 {:.5f}, relative RMS {:.2f}%, max relative error {:.2f}% over {} points, "
                     "prediction error {:.2f}% (leave one out)\n",
                     r.fit.r_squared, 100 * r.fit.relative_rms, 100 * r.fit.max_relative_error, bytes.size(),
                     100 * r.fit.prediction_error);
  out << fmt::format("  {:>12} {:>12} {:>12} {:>9}\n", "bytes", "measured us", "fitted us", "error");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out << fmt::format("  {:>12.0f} {:>12.3f} {:>12.3f} {:>8.2f}%\n", bytes[i], seconds[i] * 1e6,
                       r.fit.predict_seconds(bytes[i]) * 1e6, 100 * r.fit.relative_residuals[i]);
  }
  r.ok = 100 * r.fit.max_relative_error <= max_error;
  return r;
}

int calibrate_from_logs(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  const double max_error = parse_positive("--max-error", o.max_error, 1000);
  std::optional<CollectiveOp> op;
  if (!o.op.empty()) op = parse_collective_op(o.op);
  std::vector<NcclTestsLog> logs;
  for (const auto& path : o.logs) logs.push_back(parse_nccl_tests_log(read_text_file(path, "--from-nccl-tests"), path, op));
  // single-node allreduce logs first: a multi-node one needs the node's own links
  std::stable_sort(logs.begin(), logs.end(), [](const auto& a, const auto& b) { return a.nodes < b.nodes; });
  std::string base = o.base;
  if (base.empty()) {
    for (const auto& log : logs) {
      if (const auto match = profile_for_gpu(log.gpu)) {
        base = *match;
        break;
      }
    }
    if (base.empty()) {
      throw InputError("", "--base", "",
                       fmt::format("no shipped profile has the GPU '{}' of {}: name a base profile to complete",
                                   logs.front().gpu, logs.front().source));
    }
  }
  auto profile = find_cluster(base, "--base");
  profile.name = o.out.empty() ? "calibrated" : std::filesystem::path(o.out).stem().string();
  std::string files;
  bool ok = true;
  for (const auto& log : logs) {
    const std::vector<double>& bytes = log.bytes;
    const auto seconds = log.best_seconds();
    const auto title = fmt::format("{} ({}): {} ranks on {} node{}, {}, {} sizes, time = {}", log.source,
                                   name(log.op), log.ranks, log.nodes, log.nodes == 1 ? "" : "s",
                                   log.gpu.empty() ? "GPU not named" : log.gpu, log.bytes.size(),
                                   log.in_place_s.empty() ? "out-of-place" : "faster of out-of-place and in-place");
    const auto report = fit_and_report(title, log.op, log.ranks, bytes, seconds, max_error, out);
    if (!report.ok) {
      err << fmt::format("bitscale: {}: the fit's max relative error {:.1f}% exceeds --max-error {:g}%\n", log.source,
                         100 * report.fit.max_relative_error, max_error);
      ok = false;
    }
    if (log.op == CollectiveOp::allreduce) {
      if (log.ranks % log.nodes != 0) {
        throw InputError(log.source, "ranks", std::to_string(log.ranks), "not the same number of ranks on every node");
      }
      apply_allreduce_fit(profile, report.fit, log.ranks, log.nodes,
                          fmt::format("bitscale calibrate --from-nccl-tests {} ({}, {} ranks on {} node(s), {}) on {}: "
                                      "R^2 {:.4f}, max relative error {:.1f}%",
                                      std::filesystem::path(log.source).filename().string(), name(log.op), log.ranks,
                                      log.nodes, log.gpu, today(), report.fit.r_squared,
                                      100 * report.fit.max_relative_error));
    } else {
      out << "  (only allreduce logs set the profile's links; this fit is reported, not written)\n";
    }
    files += (files.empty() ? "" : ", ") + std::filesystem::path(log.source).filename().string();
  }
  profile.description = fmt::format("{}: calibrated from nccl-tests logs ({}) on the base profile {}",
                                    profile.name, files, base);
  profile.source = o.out;
  return finish_profile(profile, ok, o, out, err);
}

}  // namespace

int finish_profile(const ClusterProfile& c, bool fits_ok, const CalibrateOptions& o, std::ostream& out,
                   std::ostream& err, const std::vector<std::pair<std::string, std::string>>& extra) {
  c.validate();
  if (!fits_ok && !o.force) {
    err << "bitscale: no profile written (a fit missed --max-error; --force writes it anyway)\n";
    return 1;
  }
  if (o.out.empty()) {
    out << '\n' << to_toml(c);
    return 0;
  }
  write_file_atomically(o.out, to_toml(c), "--out");
  std::string also;
  for (const auto& [path, text] : extra) {
    write_file_atomically(path, text, "--out");
    also += " and " + path;
  }
  err << fmt::format("bitscale: wrote profile {} to {}{}\n", c.name, o.out, also);
  return 0;
}

void add_calibrate_command(CLI::App& app, CalibrateOptions& o) {
  o.command = app.add_subcommand("calibrate", "fit a cluster profile from nccl-tests logs or microbenchmarks");
  o.command->add_option("--from-nccl-tests", o.logs, "nccl-tests output files (all_reduce_perf and friends)");
  o.command->add_option("--from-engine", o.from_engine,
                        "another engine's measurements of the cluster (tools/ddp_train.py calibrate writes them: "
                        "PyTorch DDP on gloo), fitted into a profile");
  o.command->add_option("--refit", o.refit,
                        "a calibration's measured collectives (the PROFILE.csv beside a profile it wrote) fitted "
                        "again onto --base (that profile), whose host part is kept: checks a change of the fits "
                        "on old measurements");
  o.command->add_option("--backend", o.backend,
                        "run microbenchmarks under mpirun, one process per rank: mpi, gloo, or nccl (one per GPU)");
  o.command->add_option("--rendezvous", o.rendezvous,
                        "gloo: a directory every rank sees, for the file store (default: the temporary directory)");
  o.command->add_option("--op", o.op, "the collective the logs measure (default: from the file names)");
  o.command->add_option("--base", o.base, "profile completing what was not measured (default: by the logs' GPU)");
  o.command->add_option("--out", o.out, "profile to write (atomically); without it the profile is printed");
  o.command->add_option("--sizes", o.sizes, "message sizes (LIST, bytes; doubling ranges)")->capture_default_str();
  o.command->add_option("--iters", o.iters, "timed iterations per size (median; >= 10)")->capture_default_str();
  o.command->add_option("--warmup", o.warmup, "untimed iterations first")->capture_default_str();
  o.command->add_option("--ops", o.ops, "collectives to measure (LIST)")->capture_default_str();
  o.command->add_option("--types", o.types, "data types to measure (LIST)")->capture_default_str();
  o.command->add_option("--layers-of", o.layers_of,
                        "mpi backend: also measure the forward + backward rate of every linear and conv layer of "
                        "these workloads (LIST of names or files), at their default batch, into [layer_rates]");
  o.command->add_option("--max-error", o.max_error, "largest max relative error (%) of a fit that passes")
      ->capture_default_str();
  o.command->add_flag("--force", o.force, "write the profile even when a fit misses --max-error");
  o.command->add_flag("--resume", o.resume,
                      "--backend: finish an interrupted calibration (Ctrl-C or SIGTERM leave every size measured in "
                      "OUT.partial); the same options, only the sizes not measured yet");
}

int calibrate_with_mpi(const CalibrateOptions& o, std::ostream& out, std::ostream& err);

int run_calibrate(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  if (!o.logs.empty() && !o.backend.empty()) {
    throw InputError("", "--backend", o.backend, "give either --from-nccl-tests logs or a --backend, not both");
  }
  if (!o.refit.empty()) {
    if (!o.logs.empty() || !o.backend.empty() || !o.from_engine.empty()) {
      throw InputError("", "--refit", o.refit, "give one of --refit, --from-engine, --from-nccl-tests, --backend");
    }
    return calibrate_refit(o, out, err);
  }
  if (!o.from_engine.empty()) {
    if (!o.logs.empty() || !o.backend.empty()) {
      throw InputError("", "--from-engine", o.from_engine, "give one of --from-engine, --from-nccl-tests, --backend");
    }
    return calibrate_from_engine(o, out, err);
  }
  if (!o.logs.empty()) return calibrate_from_logs(o, out, err);
  if (o.backend == "mpi" || o.backend == "gloo") return calibrate_with_mpi(o, out, err);
  if (o.backend.empty()) {
    throw InputError("", "--backend", "", "missing: give --backend mpi|gloo|nccl, --from-nccl-tests LOG or --from-engine FILE");
  }
  if (o.backend == "nccl") return calibrate_with_mpi(o, out, err);
  throw InputError("", "--backend", o.backend, "valid: mpi, gloo, nccl (or --from-nccl-tests LOG)");
}

}  // namespace bitscale
