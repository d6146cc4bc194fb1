// bitscale validate: every run of a run CSV (the held-out truth) predicted from a profile calibrated by
// microbenchmarks on the same cluster, never fitted to the runs. Per configuration (its runs' median of median
// steps when it ran more than once; the CSV's run column names its first run): measured and predicted median step
// time, the absolute percentage error, and the same for the speedup over a one-rank run of the same workload
// and batch (ranks x t1 / tN, measured against predicted); then the median and max errors. Exit 1 when the
// largest step-time error is over --max-error.
// Runs that probed their host (host_gflops_before/after: the GEMM calibration times, just before and after the
// run) get a host speed: the geometric mean of the two over the profile's own probe ([gpu] probe_gflops, the same
// GEMM timed beside the calibration's layers; older profiles: their fp32 GEMM rate), the median over the
// configuration's runs. 1 is the host as calibrated; a drifted host shows as a speed away from 1 (a column of
// --csv and a summary line). --rescale-compute predicts each configuration with the profile's CPU rates (GEMM,
// layers, codecs, sums) multiplied by that speed: calibration's compute at the host speed of the runs.
#include "tools/validate_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "calibrate/fit.hpp"
#include "kernels/input_error.hpp"
#include "model/parse.hpp"
#include "model/topology_collectives.hpp"
#include "predictors/predictor.hpp"
#include "predictors/uncertainty.hpp"
#include "tools/report.hpp"
#include "tools/run_csv.hpp"

namespace bitscale {

namespace {

// One configuration: every run of it (a grid run with --repeats holds several), measured as the median over its
// runs of each run's median step.
struct Row {
  const Run* run = nullptr;  // the first run: the configuration
  std::vector<const Run*> repeats;
  double measured_s = 0, predicted_s = 0, error = 0;
  double measured_compute_s = 0, predicted_compute_s = 0, compute_error = 0;
  double measured_speedup = NAN, predicted_speedup = NAN, speedup_error = NAN;
  double low_s = 0, high_s = 0;  // the predicted step's 90% interval; 0: the profile states no uncertainty
  double host_speed = NAN;       // the runs' host probe over the calibration's; NaN: not probed
};

// The profile with every rate its CPU ranks compute at (GEMM peaks, layers, codecs, sums) times `speed`.
ClusterProfile at_host_speed(const ClusterProfile& c, double speed) {
  ClusterProfile s = c;
  for (auto& t : s.peak_tflops) t *= speed;
  for (auto* rates : {&s.layer_gflops, &s.codec_gbyte_per_s, &s.codec_encode_gbyte_per_s, &s.codec_decode_gbyte_per_s,
                      &s.reduction_gbyte_per_s}) {
    for (auto& [key, rate] : *rates) rate *= speed;
  }
  for (auto& [key, curve] : s.reduction_by_size) {
    for (auto& ns : curve.ns_per_byte) ns /= speed;
  }
  return s;
}

// CSV fields with RFC 4180 quotes ("a, b" and "" for a quote); throws on an unterminated quote.
std::vector<std::string> split_quoted(std::string_view line, const std::string& where) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        out.back() += ch;
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  if (quoted) throw InputError(where, "row", "", "a quoted field is not closed");
  return out;
}

// A published measurement (data/published/cases.csv): a collective's busbw, or a training run's throughput or
// speedup, with its source.
struct PublishedCase {
  std::string id, kind, cluster, workload, precision, compute, metric, source, note, where;
  std::int64_t gpus = 0, batch = 0;
  double bytes = 0, bandwidth_gbps = 0, published = 0;
};

constexpr std::string_view kPublishedHeader =
    "case,kind,cluster,workload,gpus,precision,compute,batch,bytes,bandwidth_gbps,metric,published,source,note";

std::vector<PublishedCase> load_published(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) || !in) throw InputError("", "--published", path, "is not a readable file");
  std::vector<PublishedCase> out;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string where = fmt::format("{}:{}", path, line_no);
    if (line_no == 1) {
      if (line != kPublishedHeader) throw InputError(where, "header", "", fmt::format("must be '{}'", kPublishedHeader));
      continue;
    }
    if (line.empty()) continue;
    const auto f = split_quoted(line, where);
    if (f.size() != 14) throw InputError(where, "row", "", fmt::format("has {} fields; the header has 14", f.size()));
    auto field = [&](const char* name) { return fmt::format("{} column {}", where, name); };
    PublishedCase c;
    c.id = f[0];
    c.kind = f[1];
    c.cluster = f[2];
    c.workload = f[3];
    c.gpus = parse_int(field("gpus"), f[4], 1, kMaxGpus);
    c.precision = f[5].empty() ? "fp32" : f[5];
    c.compute = f[6];
    c.metric = f[10];
    c.published = parse_positive(field("published"), f[11], 1e12);
    c.source = f[12];
    c.note = f[13];
    c.where = where;
    if (c.id.empty() || c.source.empty()) throw InputError(where, "case", c.id, "every case needs a name and a source");
    if (!f[9].empty()) c.bandwidth_gbps = parse_positive(field("bandwidth_gbps"), f[9], 1e6);
    if (c.kind == "collective") {
      c.bytes = parse_bytes(field("bytes"), f[8], 1e15);
      if (c.gpus < 2) throw InputError("", field("gpus"), f[4], "a collective needs at least 2 GPUs");
      if (c.metric != "busbw_gbyte_per_s") throw InputError("", field("metric"), c.metric, "a collective case has busbw_gbyte_per_s");
    } else if (c.kind == "training") {
      c.batch = parse_int(field("batch"), f[7], 1, 1 << 24);
      if (c.metric != "throughput_samples_per_s" && c.metric != "speedup") {
        throw InputError("", field("metric"), c.metric, "a training case has throughput_samples_per_s or speedup");
      }
    } else {
      throw InputError("", field("kind"), c.kind, "must be collective or training");
    }
    out.push_back(c);
  }
  if (out.empty()) throw InputError("", "--published", path, "holds no cases");
  return out;
}

int run_published(const ValidateOptions& o, std::ostream& out) {
  const auto cases = load_published(o.published);
  const auto predictor = make_predictor(o.predictor);
  out << fmt::format("# bitscale validate --published: {} case(s) from {}, shipped (datasheet) profiles, predictor {}\n",
                     cases.size(), o.published, predictor->name());
  out << fmt::format("{:<28} {:<10} {:>5} {:<25} {:>10} {:>10} {:>7}\n", "case", "cluster", "gpus", "metric",
                     "published", "predicted", "error");
  std::vector<double> errors;
  for (const auto& k : cases) {
    ClusterProfile c;
    Workload w;
    try {
      c = find_cluster(k.cluster, "cluster");
      if (k.bandwidth_gbps > 0) c.set_inter_node_gbps_per_gpu(k.bandwidth_gbps);
    } catch (const InputError& e) {
      throw InputError(k.where, "cluster", k.cluster, e.what());
    }
    double predicted = 0;
    try {
      if (k.kind == "collective") {
        const Fabric f = make_fabric(c, k.gpus);
        const auto t = topology_best_allreduce(c, f, k.bytes);
        const double n = static_cast<double>(k.gpus);
        predicted = k.bytes / t.seconds * 2.0 * (n - 1) / n / 1e9;
      } else {
        w = find_workload(k.workload);
        Scenario s;
        s.workload = &w;
        s.cluster = &c;
        s.gpus = k.gpus;
        s.precision = find_wire_format(k.precision, "precision");
        s.compute = k.compute.empty() ? c.default_compute : parse_compute_precision(k.compute, "compute");
        s.storage = s.compute == ComputePrecision::fp32 ? StoragePolicy::fp32 : StoragePolicy::amp;
        s.optimizer = Optimizer::adam;
        s.batch = k.batch;
        const auto p = predictor->predict(s);
        predicted = k.metric == "speedup" ? p.speedup : p.throughput_samples_per_s;
      }
    } catch (const InputError& e) {
      throw InputError(k.where, "case", k.id, e.what());
    }
    const double error = std::abs(predicted - k.published) / k.published;
    errors.push_back(error);
    out << fmt::format("{:<28} {:<10} {:>5} {:<25} {:>10.2f} {:>10.2f} {:>6.1f}%{}\n", k.id, k.cluster, k.gpus,
                       k.metric, k.published, predicted, 100 * error, k.note.empty() ? "" : "  (" + k.note + ")");
  }
  out << fmt::format("# published cases: median error {:.1f}%, max {:.1f}% over {} cases\n", 100 * median_value(errors),
                     100 * *std::max_element(errors.begin(), errors.end()), errors.size());
  return 0;
}

}  // namespace

void add_validate_command(CLI::App& app, ValidateOptions& o) {
  o.command = app.add_subcommand(
      "validate", "predict real runs (run CSVs from bitscale train) and report the error against their measured times");
  auto* c = o.command;
  c->add_option("--runs,-r", o.runs,
                "run CSV, or a directory of them; runs of one configuration (repeats) count once, measured as the "
                "median of their median steps");
  c->add_option("--cluster,-c", o.cluster,
                "calibrated profile (TOML) for every run, or a directory holding one per run: CLUSTER.toml for the "
                "run's cluster column");
  c->add_option("--published", o.published,
                "instead of runs: published measurements with their sources (data/published/cases.csv), predicted "
                "with the shipped profiles");
  c->add_option("--predictor", o.predictor, "predictor (bitscale predictors)")->capture_default_str();
  c->add_option("--max-error", o.max_error, "exit 1 when a step-time error is over this (percent)")->capture_default_str();
  c->add_option("--max-median-error", o.max_median_error,
                "also exit 1 when the median step-time error is over this (percent)");
  c->add_option("--csv", o.csv, "also write the comparison as CSV to this file");
  c->add_flag("--rescale-compute", o.rescale_compute,
              "predict each configuration with the profile's CPU rates (GEMM, layers, codecs, sums) times its runs' "
              "host speed: their GEMM probe before and after the run over the calibration's probe (or its GEMM rate; "
              "runs without the probe are predicted as calibrated)");
}

int run_validate(const ValidateOptions& o, std::ostream& out, std::ostream& err) {
  const double max_error = parse_positive("--max-error", o.max_error, 1e6);
  const double max_median =
      o.max_median_error.empty() ? 1e6 : parse_positive("--max-median-error", o.max_median_error, 1e6);
  if (!o.published.empty()) {
    if (!o.runs.empty() || !o.cluster.empty() || !o.csv.empty() || o.rescale_compute) {
      throw InputError("", "--published", o.published,
                       "cannot be combined with --runs, --cluster, --csv or --rescale-compute");
    }
    return run_published(o, out);
  }
  if (o.runs.empty()) throw InputError("", "--runs", "", "is required (or --published)");
  if (o.cluster.empty()) throw InputError("", "--cluster", "", "is required with --runs: the calibrated profile(s)");
  const auto predictor = make_predictor(o.predictor);
  if (!o.csv.empty()) check_output_path(o.csv, "--csv");
  const auto runs = load_runs(o.runs, "--runs");
  if (runs.empty()) throw InputError("", "--runs", o.runs, "holds no runs");
  std::error_code ec;
  const bool cluster_dir = std::filesystem::is_directory(o.cluster, ec);
  std::map<std::string, std::unique_ptr<ClusterProfile>> profiles;
  std::map<std::string, std::unique_ptr<Workload>> workloads;
  auto profile_for = [&](const Run& r) -> const ClusterProfile& {
    std::string path = o.cluster;
    if (cluster_dir) {
      if (r.cluster.empty()) {
        throw InputError(r.source, "cluster", "", "is empty: name the run's profile (train --cluster-name) or pass one profile file");
      }
      path = (std::filesystem::path(o.cluster) / (r.cluster + ".toml")).string();
      if (!std::filesystem::is_regular_file(path, ec)) {
        throw InputError(r.source, "cluster", r.cluster, fmt::format("no profile {} in --cluster {}", path, o.cluster));
      }
    }
    auto& slot = profiles[path];
    if (!slot) slot = std::make_unique<ClusterProfile>(find_cluster(path, "--cluster"));
    return *slot;
  };
  // a run's workload: a shipped name, or a file relative to the working directory or to the run CSV's directory
  // or one above it (runs name data/workloads/... from the repository root)
  auto workload_for = [&](const Run& r) -> const Workload& {
    auto& slot = workloads[r.workload];
    if (slot) return *slot;
    const auto path = find_beside(r.workload, r.source.substr(0, r.source.rfind(':')));
    try {
      slot = std::make_unique<Workload>(find_workload(path));
    } catch (const InputError& e) {
      throw InputError(r.source, "workload", r.workload, e.what());
    }
    return *slot;
  };
  auto scenario_of = [&](const Run& r, const ClusterProfile* at_speed = nullptr) {
    Scenario s;
    s.cluster = at_speed ? at_speed : &profile_for(r);
    // the run's ranks per node must be the profile's (a node holds min(ranks, gpus per node) of them)
    const auto per_node = std::min(s.cluster->gpus_per_node, r.ranks);
    if (r.ranks_per_node != per_node) {
      throw InputError(r.source, "ranks_per_node", std::to_string(r.ranks_per_node),
                       fmt::format("the profile {} puts {} of the run's {} ranks on a node: calibrate on the run's "
                                   "cluster, or pass the profile that was",
                                   s.cluster->name, per_node, r.ranks));
    }
    s.workload = &workload_for(r);
    s.gpus = r.ranks;
    s.precision = find_wire_format(r.precision, "precision");
    s.compute = ComputePrecision::fp32;
    s.storage = StoragePolicy::fp32;
    s.optimizer = Optimizer::momentum;
    s.batch = r.batch;
    s.bucket_bytes = r.bucket_bytes;
    s.first_bucket_bytes = r.first_bucket_bytes;
    s.codec_stream = CodecStream::compute;
    return s;
  };
  auto predict = [&](const Run& r, const ClusterProfile* at_speed) {
    try {
      return predictor->predict(scenario_of(r, at_speed));
    } catch (const InputError& e) {
      throw InputError(r.source, "run", r.id, e.what());
    }
  };

  // runs of the same configuration (engine, workload, cluster, ranks and their placement, rate, precision, batch,
  // buckets) form one row, in the order their first runs appear
  std::vector<Row> rows;
  {
    std::map<std::string, std::size_t> index;
    for (const auto& r : runs) {
      const auto key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", r.engine, r.workload, r.cluster, r.ranks,
                                   r.nodes, r.ranks_per_node, r.rate_mbit, r.precision, r.batch, r.bucket_bytes,
                                   r.first_bucket_bytes);
      const auto [it, fresh] = index.try_emplace(key, rows.size());
      if (fresh) {
        rows.emplace_back();
        rows.back().run = &r;
      }
      rows[it->second].repeats.push_back(&r);
    }
  }
  std::size_t probed = 0;
  for (auto& row : rows) {
    const Run& r = *row.run;
    std::vector<double> steps, computes, probes;
    for (const Run* x : row.repeats) {
      steps.push_back(x->median_step_s());
      computes.push_back(x->median_compute_s());
      if (x->host_gflops() > 0) probes.push_back(x->host_gflops());
    }
    // the calibration's own probe where it took one (the same measurement, beside its layers), else its GEMM rate
    const auto& calibrated = profile_for(r);
    const double calibrated_gflops =
        calibrated.probe_gflops > 0 ? calibrated.probe_gflops : calibrated.peak_flops(ComputePrecision::fp32) / 1e9;
    if (!probes.empty() && calibrated_gflops > 0) {
      row.host_speed = median_value(probes) / calibrated_gflops;
      ++probed;
    }
    std::optional<ClusterProfile> at_speed;
    if (o.rescale_compute && std::isfinite(row.host_speed)) at_speed = at_host_speed(profile_for(r), row.host_speed);
    const ClusterProfile* scaled = at_speed ? &*at_speed : nullptr;
    auto p = predict(r, scaled);
    row.measured_s = median_value(steps);
    row.predicted_s = p.step_time_s;
    // the 90% interval from the profile's stated uncertainty (none stated: no interval)
    if (profile_for(r).uncertainty.stated()) {
      add_interval(p, *predictor, scenario_of(r, scaled));
      row.low_s = p.step_time_low_s;
      row.high_s = p.step_time_high_s;
    }
    row.error = std::abs(row.predicted_s - row.measured_s) / row.measured_s;
    row.measured_compute_s = median_value(computes);
    // bitscale train's compute_s times the passes and the optimizer, not the posts of its collectives (a launch lands
    // between two timed regions); PyTorch DDP's is the step less its wait and codec, launches included. Both are
    // one rank's own: the time the slowest rank adds to the passes lands in that rank's wait, not its compute
    row.predicted_compute_s = p.compute_s - p.skew_s - (r.engine == kBitscaleTrainEngine ? p.launch_s : 0.0);
    // an engine that does not time compute apart logs 0: no compute error then
    row.compute_error = row.measured_compute_s > 0
                            ? std::abs(row.predicted_compute_s - row.measured_compute_s) / row.measured_compute_s
                            : NAN;
  }
  // speedup over the one-rank fp32 run of the same engine, workload and batch
  for (auto& row : rows) {
    const Run& r = *row.run;
    if (r.ranks == 1) continue;
    for (const auto& base : rows) {
      const Run& b = *base.run;
      if (b.ranks == 1 && b.precision == "fp32" && b.engine == r.engine && b.workload == r.workload &&
          b.batch == r.batch) {
        const double n = static_cast<double>(r.ranks);
        row.measured_speedup = n * base.measured_s / row.measured_s;
        row.predicted_speedup = n * base.predicted_s / row.predicted_s;
        row.speedup_error = std::abs(row.predicted_speedup - row.measured_speedup) / row.measured_speedup;
        break;
      }
    }
  }

  // repeated configurations: a column of how many runs each median is over, and "configurations" in the summaries
  const bool repeated = std::any_of(rows.begin(), rows.end(), [](const Row& row) { return row.repeats.size() > 1; });
  const std::string unit = repeated ? "configurations" : "runs";
  if (repeated) {
    out << fmt::format("# bitscale validate: {} runs of {} configurations from {} (measured: the median over a "
                       "configuration's runs of each run's median step), predictor {}, profiles {}\n",
                       runs.size(), rows.size(), o.runs, predictor->name(), o.cluster);
  } else {
    out << fmt::format("# bitscale validate: {} run(s) from {}, predictor {}, profiles {}\n", rows.size(), o.runs,
                       predictor->name(), o.cluster);
  }
  if (o.rescale_compute) {
    out << fmt::format("# --rescale-compute: {} of {} {} predicted at their runs' host speed (the rest as calibrated)\n",
                       probed, rows.size(), unit);
  }
  out << fmt::format("{:<13} {:<11} {:>5} {:>7} {:<10} {:>5} {:>10} {:>10} {:>7} {:>8} {:>8} {:>7} {:>7}{}\n", "engine",
                     "workload", "ranks", "Mbit/s", "precision", "batch", "measured", "predicted", "error", "speedup",
                     "pred.", "error", "comp.err", repeated ? fmt::format(" {:>4}", "runs") : "");
  std::ostringstream csv;
  csv << "engine,run,workload,ranks,nodes,rate_mbit,cluster,precision,batch,measured_step_s,predicted_step_s,"
         "step_error,measured_compute_s,predicted_compute_s,compute_error,measured_speedup,predicted_speedup,"
         "speedup_error,predicted_low_s,predicted_high_s,runs,host_speed\n";
  std::vector<double> errors, speedup_errors, compute_errors;
  std::size_t with_interval = 0, inside = 0;
  for (const auto& row : rows) {
    const Run& r = *row.run;
    const auto stem = std::filesystem::path(r.workload).stem().string();
    const bool sp = std::isfinite(row.speedup_error);
    const bool ce = std::isfinite(row.compute_error);
    out << fmt::format("{:<13} {:<11} {:>5} {:>7g} {:<10} {:>5} {:>9.4f}s {:>9.4f}s {:>6.1f}% {:>8} {:>8} {:>7} {:>7}{}\n",
                       r.engine, stem, r.ranks, r.rate_mbit, r.precision, r.batch, row.measured_s, row.predicted_s,
                       100 * row.error, sp ? fmt::format("{:.2f}", row.measured_speedup) : "-",
                       sp ? fmt::format("{:.2f}", row.predicted_speedup) : "-",
                       sp ? fmt::format("{:.1f}%", 100 * row.speedup_error) : "-",
                       ce ? fmt::format("{:.1f}%", 100 * row.compute_error) : "-",
                       repeated ? fmt::format(" {:>4}", row.repeats.size()) : "");
    const bool interval = row.high_s > 0;
    csv << fmt::format("{},{},{},{},{},{:g},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{},{},{},{},{},{},{}\n", r.engine,
                       r.id, r.workload, r.ranks, r.nodes, r.rate_mbit, r.cluster, r.precision, r.batch, row.measured_s,
                       row.predicted_s, row.error, row.measured_compute_s, row.predicted_compute_s,
                       ce ? fmt::format("{:.6g}", row.compute_error) : "",
                       sp ? fmt::format("{:.6g}", row.measured_speedup) : "",
                       sp ? fmt::format("{:.6g}", row.predicted_speedup) : "",
                       sp ? fmt::format("{:.6g}", row.speedup_error) : "",
                       interval ? fmt::format("{:.6g}", row.low_s) : "", interval ? fmt::format("{:.6g}", row.high_s) : "",
                       row.repeats.size(), std::isfinite(row.host_speed) ? fmt::format("{:.4f}", row.host_speed) : "");
    if (interval) {
      ++with_interval;
      if (row.measured_s >= row.low_s && row.measured_s <= row.high_s) ++inside;
    }
    errors.push_back(row.error);
    if (ce) compute_errors.push_back(row.compute_error);
    if (sp) speedup_errors.push_back(row.speedup_error);
  }
  const double worst = *std::max_element(errors.begin(), errors.end());
  out << fmt::format("# step time: median error {:.1f}%, max {:.1f}% over {} {}\n", 100 * median_value(errors),
                     100 * worst, errors.size(), unit);
  // and by engine, when the runs come from more than one
  std::map<std::string, std::vector<double>> by_engine;
  for (const auto& row : rows) by_engine[row.run->engine].push_back(row.error);
  if (by_engine.size() > 1) {
    for (const auto& [engine, e] : by_engine) {
      out << fmt::format("#   {}: median {:.1f}%, max {:.1f}% over {} {}\n", engine, 100 * median_value(e),
                         100 * *std::max_element(e.begin(), e.end()), e.size(), unit);
    }
  }
  if (!compute_errors.empty()) {
    out << fmt::format("# compute alone: median error {:.1f}%, max {:.1f}% over {} {} that time it\n",
                       100 * median_value(compute_errors),
                       100 * *std::max_element(compute_errors.begin(), compute_errors.end()), compute_errors.size(),
                       unit);
  }
  if (!speedup_errors.empty()) {
    out << fmt::format("# speedup: median error {:.1f}%, max {:.1f}% over {} {} with a one-rank fp32 baseline\n",
                       100 * median_value(speedup_errors),
                       100 * *std::max_element(speedup_errors.begin(), speedup_errors.end()), speedup_errors.size(),
                       unit);
  }
  if (with_interval > 0) {
    out << fmt::format("# 90% intervals (the profiles' stated uncertainty): the measured step inside for {} of {} {} "
                       "({:.0f}%)\n",
                       inside, with_interval, unit, 100.0 * static_cast<double>(inside) / static_cast<double>(with_interval));
  }
  if (probed > 0) {
    std::vector<double> speeds;
    for (const auto& row : rows) {
      if (std::isfinite(row.host_speed)) speeds.push_back(row.host_speed);
    }
    const auto [slowest, fastest] = std::minmax_element(speeds.begin(), speeds.end());
    const auto off = std::count_if(speeds.begin(), speeds.end(), [](double v) { return std::abs(v - 1) > 0.10; });
    out << fmt::format("# host speed in the runs (their GEMM probe over the calibration's): median {:.3f}, {:.3f} to {:.3f} "
                       "over {} {}; {} more than 10% off the calibration\n",
                       median_value(speeds), *slowest, *fastest, speeds.size(), unit, off);
  }
  if (!o.csv.empty()) write_file_atomically(o.csv, csv.str(), "--csv");
  if (100 * median_value(errors) > max_median) {
    err << fmt::format("bitscale: validate: the median step-time error, {:.1f}%, is over --max-median-error {:g}%\n",
                       100 * median_value(errors), max_median);
    return 1;
  }
  if (100 * worst > max_error) {
    err << fmt::format("bitscale: validate: the largest step-time error, {:.1f}%, is over --max-error {:g}%\n",
                       100 * worst, max_error);
    return 1;
  }
  return 0;
}

}  // namespace bitscale
