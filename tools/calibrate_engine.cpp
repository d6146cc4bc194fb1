// bitscale calibrate --from-engine FILE: a cluster profile from another training engine's own microbenchmarks
// (tools/ddp_train.py calibrate: PyTorch on gloo), fitted and written as `calibrate --backend` does
// (tools/calibrate_host.hpp). The file (TOML) holds what the engine measured on every rank at once:
//   engine, library, engine_version, command, date, host, cpu, ranks, nodes, memory_gib, codec_values (what the
//   codecs were timed on)
//   [rates]       memcpy_bytes_per_s, gemm_fp32_flops_per_s, linear_flops_per_s, conv_flops_per_s (the reference
//                 layers, forward + backward), compute_during_comm, comm_during_compute, rank_skew,
//                 contention_measured
//   [codecs]      bytes read + written per second by wire format
//   [[layer]]     workload (file), layer (name), batch, seconds (one forward + backward as training runs it)
//   [[collective]] op, type, bytes, median_s, min_s, max_s (slowest rank per iteration, median)
// A layer's rate is 3x its forward FLOPs (bitscale's count) over its time, keyed by its shape.
#include <fmt/format.h>

#include <filesystem>

#include "kernels/input_error.hpp"
#include "model/compute.hpp"
#include "model/parse.hpp"
#include "model/toml_reader.hpp"
#include "model/workload.hpp"
#include "tools/calibrate_command.hpp"
#include "tools/calibrate_host.hpp"
#include "tools/report.hpp"

namespace bitscale {

namespace {

// The tables of an array of tables `key` ([[key]]), each with its reader; none when absent.
std::vector<TomlReader> table_array(const TomlReader& r, std::string_view key) {
  std::vector<TomlReader> out;
  if (!r.has(key)) return out;
  const auto* array = r.raw()[key].as_array();
  if (array == nullptr) throw InputError(r.source(), r.field(key), "", "must be an array of tables ([[" + std::string(key) + "]])");
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto* t = (*array)[i].as_table();
    const auto field = fmt::format("{}[{}]", r.field(key), i);
    if (t == nullptr) throw InputError(r.source(), field, "", "must be a table");
    out.emplace_back(*t, r.source(), field + ".");
  }
  return out;
}

}  // namespace

int calibrate_from_engine(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  const double max_error = parse_positive("--max-error", o.max_error, 1000);
  if (!o.out.empty()) check_output_path(o.out, "--out");
  const std::string& path = o.from_engine;
  const auto text = read_text_file(path, "--from-engine");
  const auto doc = parse_toml(text, path);
  const TomlReader r(doc, path);
  r.only({"engine", "library", "engine_version", "command", "date", "host", "cpu", "ranks", "nodes", "memory_gib",
          "codec_values", "rates", "codecs", "layer", "collective"});
  const auto engine = r.text("engine");
  const auto library = r.text("library");
  const auto version = r.text("engine_version");
  const auto measured_by = r.text("command");
  const auto date = r.text("date");
  const auto codec_values = r.optional_text("codec_values").value_or("values not described");
  HostScope scope;
  scope.host = r.text("host");
  scope.cpu = r.text("cpu");
  scope.ranks = static_cast<int>(r.integer("ranks", 1, 1 << 20));
  scope.nodes = static_cast<int>(r.integer("nodes", 1, scope.ranks));
  if (scope.ranks % scope.nodes != 0) {
    throw InputError(path, "ranks", std::to_string(scope.ranks),
                     fmt::format("must be a multiple of nodes ({}): the same ranks on every node", scope.nodes));
  }
  scope.ranks_per_node = scope.ranks / scope.nodes;
  scope.memory_gib = r.number("memory_gib", 1e9);

  HostRates rates;
  const auto host = r.table("rates");
  host.only({"memcpy_bytes_per_s", "gemm_fp32_flops_per_s", "linear_flops_per_s", "conv_flops_per_s",
             "compute_during_comm", "comm_during_compute", "rank_skew", "contention_measured"});
  rates.memcpy_bytes_per_s = host.number("memcpy_bytes_per_s", 1e15);
  rates.gemm_flops_per_s[static_cast<int>(ComputePrecision::fp32)] = host.number("gemm_fp32_flops_per_s", 1e18);
  rates.linear_flops_per_s = host.number("linear_flops_per_s", 1e18);
  rates.conv_flops_per_s = host.number("conv_flops_per_s", 1e18);
  rates.contention = host.boolean("contention_measured", false);
  rates.compute_during_comm = host.number("compute_during_comm", 1.0);
  rates.comm_during_compute = host.number("comm_during_compute", 1.0);
  rates.rank_skew = host.optional_number("rank_skew", 10.0, true).value_or(0.0);
  if (r.has("codecs")) {
    const auto codecs = r.table("codecs");
    for (const auto& [k, v] : codecs.raw()) {
      const std::string key(k.str());
      find_wire_format(key, codecs.field(key));
      rates.codec_bytes_per_s[key] = codecs.number(key, 1e15);
    }
  }
  std::map<std::string, std::unique_ptr<Workload>> workloads;
  for (const auto& l : table_array(r, "layer")) {
    l.only({"workload", "layer", "batch", "seconds"});
    const auto file = find_beside(l.text("workload"), path);
    auto& w = workloads[file];
    if (!w) {
      try {
        w = std::make_unique<Workload>(find_workload(file));
      } catch (const InputError& e) {
        throw InputError(path, l.field("workload"), file, e.what());
      }
      rates.layer_workloads += (rates.layer_workloads.empty() ? "" : ", ") + w->name;
    }
    const auto name = l.text("layer");
    const auto it = std::find_if(w->layers.begin(), w->layers.end(), [&](const Layer& x) { return x.name == name; });
    if (it == w->layers.end()) throw InputError(path, l.field("layer"), name, "is not a layer of " + w->name);
    const auto batch = l.integer("batch", 1, 1 << 24);
    const auto key = layer_shape_key(*it, ComputePrecision::fp32, batch);
    if (key.empty()) throw InputError(path, l.field("layer"), name, "has no shape (a linear or conv layer is needed)");
    rates.layer_flops_per_s[key] = 3.0 * it->forward_flops * static_cast<double>(batch) / l.number("seconds", 1e6);
  }
  std::vector<MpiTiming> timings;
  for (const auto& t : table_array(r, "collective")) {
    t.only({"op", "type", "bytes", "median_s", "min_s", "max_s"});
    MpiTiming m;
    m.op = parse_collective_op(t.text("op"), t.field("op"));
    m.type = t.text("type");
    m.bytes = t.number("bytes", 1e15);
    m.median_s = t.number("median_s", 1e6);
    m.min_s = t.number("min_s", 1e6);
    m.max_s = t.number("max_s", 1e6);
    if (!(m.min_s <= m.median_s && m.median_s <= m.max_s)) {
      throw InputError(path, t.field("median_s"), format_value(m.median_s), "must lie between min_s and max_s");
    }
    timings.push_back(m);
  }
  const bool links = std::any_of(timings.begin(), timings.end(), [](const MpiTiming& t) {
    return t.op == CollectiveOp::allreduce && t.type == "fp32";
  });
  if (scope.ranks > 1 && !links) {
    throw InputError(path, "collective", "",
                     "holds no fp32 allreduce series (op = \"allreduce\", type = \"fp32\"): the links need it");
  }

  const std::string command =
      fmt::format("{} ({}, {}), {} ranks on {} ({}), {}; fitted by bitscale calibrate --from-engine {}", measured_by,
                  engine, version, scope.ranks, scope.host, scope.cpu, date, std::filesystem::path(path).filename().string());
  const HostEngine words{
      .kernels = engine + "'s",
      .layer_kernels = engine + "'s layers (" + version + ", one thread)",
      .conv = "3x3 convolution",
      .gemm = engine + " fp32 GEMM 512^3 (" + version + "), one thread per rank",
      .codecs = engine + "'s compression (to the wire format, divided by the ranks, and back) on " + codec_values +
                ", both directions together (2 x bytes read + written over their summed times)",
      .comm_load = "allreduces 4 MiB through " + library + " over and over",
  };
  out << fmt::format("# bitscale calibrate --from-engine {}: {} {} ({}), {} ranks on {} node{}, {}\n", path, engine,
                     library, version, scope.ranks, scope.nodes, scope.nodes == 1 ? "" : "s", date);
  print_host_rates(rates, out);
  ClusterProfile c = host_profile(rates, words, scope, command);
  c.name = o.out.empty() ? engine + "-calibrated" : std::filesystem::path(o.out).stem().string();
  c.source = o.out;
  c.collective_library = library;
  if (scope.ranks == 1) set_links_of_one_rank(c);
  const auto fits = fit_series(timings, "fp32", scope.ranks, scope.nodes, max_error, command, c, out, err);
  if (fits.links_failed) return 1;
  return finish_profile(c, fits.ok, o, out, err,
                        o.out.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                      : std::vector<std::pair<std::string, std::string>>{
                                            {std::filesystem::path(o.out).replace_extension(".csv").string(), fits.csv}});
}

}  // namespace bitscale
