// bitscale calibrate --from-engine FILE (tools/calibrate_engine.hpp has the file's fields).
#include <fmt/format.h>

#include <filesystem>

#include "kernels/input_error.hpp"
#include "model/compute.hpp"
#include "model/parse.hpp"
#include "model/toml_reader.hpp"
#include "model/workload.hpp"
#include "tools/calibrate_command.hpp"
#include "tools/calibrate_engine.hpp"
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

EngineMeasurements parse_engine_measurements(std::string_view text, const std::string& path,
                                             const std::function<Workload(const std::string&)>& workload_of) {
  const auto doc = parse_toml(text, path);
  const TomlReader r(doc, path);
  r.only({"engine", "library", "engine_version", "command", "date", "host", "cpu", "ranks", "nodes", "memory_gib",
          "codec_values", "collective_values", "layer_timing", "rank_skew_timing", "contention_sizing", "rates",
          "codecs", "codec_encode", "codec_decode", "contention", "layer", "collective"});
  EngineMeasurements m;
  m.engine = r.text("engine");
  m.library = r.text("library");
  m.version = r.text("engine_version");
  m.command = r.text("command");
  m.date = r.text("date");
  m.codec_values = r.optional_text("codec_values").value_or("values not described");
  m.collective_values = r.optional_text("collective_values").value_or("values not described");
  m.layer_timing = r.optional_text("layer_timing").value_or("");
  m.rank_skew_timing = r.optional_text("rank_skew_timing").value_or("");
  m.contention_sizing = r.optional_text("contention_sizing").value_or("");
  auto& scope = m.scope;
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

  auto& rates = m.rates;
  const auto host = r.table("rates");
  host.only({"memcpy_bytes_per_s", "gemm_fp32_flops_per_s", "linear_flops_per_s", "conv_flops_per_s",
             "compute_during_comm", "comm_during_compute", "rank_skew", "contention_measured", "layer_spread",
             "probe_gflops_early", "probe_gflops_middle", "probe_gflops_late", "contention_bytes",
             "contention_samples"});
  rates.memcpy_bytes_per_s = host.number("memcpy_bytes_per_s", 1e15);
  rates.gemm_flops_per_s[static_cast<int>(ComputePrecision::fp32)] = host.number("gemm_fp32_flops_per_s", 1e18);
  rates.linear_flops_per_s = host.number("linear_flops_per_s", 1e18);
  rates.conv_flops_per_s = host.number("conv_flops_per_s", 1e18);
  rates.contention = host.boolean("contention_measured", false);
  rates.compute_during_comm = host.number("compute_during_comm", 1.0);
  rates.comm_during_compute = host.number("comm_during_compute", 1.0);
  // the contention rounds' allreduce and layer batch (files written before they were chosen: 2 MiB, 256 samples)
  rates.contention_bytes = host.optional_number("contention_bytes", 1 << 30).value_or(2 << 20);
  m.contention_samples = static_cast<int>(host.optional_integer("contention_samples", 1, 1 << 20).value_or(256));
  rates.rank_skew = host.optional_number("rank_skew", 10.0, true).value_or(0.0);
  rates.layer_spread = host.optional_number("layer_spread", 10.0, true).value_or(0.0);
  // the host probe before the first and the last layer measurements (files written before it lack both)
  const auto early = host.optional_number("probe_gflops_early", 1e9), late = host.optional_number("probe_gflops_late", 1e9);
  if (early.has_value() != late.has_value()) {
    const char* missing = early ? "probe_gflops_late" : "probe_gflops_early";
    throw InputError(path, host.field(missing), "", "missing: the host probe is taken twice, before each layer "
                                                    "measurement (give both or neither)");
  }
  if (early) {
    rates.probe_gflops_early = *early;
    rates.probe_gflops_late = *late;
  }
  // the probe before the third layer measurement, since 2026-12-02 (the layers' median of three kept)
  if (const auto middle = host.optional_number("probe_gflops_middle", 1e9)) {
    if (!early) {
      throw InputError(path, host.field("probe_gflops_middle"), format_value(*middle),
                       "given without probe_gflops_early and probe_gflops_late: the host probe is taken before every "
                       "layer measurement");
    }
    rates.probe_gflops_middle = *middle;
  }
  // a contention pair's two fractions (read as <= 1), each at least 0.01
  const auto check_fractions = [&](const TomlReader& t, double compute_during_comm, double comm_during_compute) {
    for (const auto& [key, v] : {std::pair{"compute_during_comm", compute_during_comm},
                                  std::pair{"comm_during_compute", comm_during_compute}}) {
      if (v < 0.01) throw InputError(path, t.field(key), format_value(v), "must be in [0.01, 1]");
    }
  };
  check_fractions(host, rates.compute_during_comm, rates.comm_during_compute);
  if (r.has("contention")) {  // [contention.<format>]: the same pair with that format's allreduce
    const auto by_format = r.table("contention");
    for (const auto& [k, v] : by_format.raw()) {
      const std::string key(k.str());
      find_wire_format(key, by_format.field(key));
      const auto one = by_format.table(key);
      one.only({"compute_during_comm", "comm_during_compute"});
      const ClusterProfile::Contention pair{one.number("compute_during_comm", 1.0),
                                            one.number("comm_during_compute", 1.0)};
      check_fractions(one, pair.compute_during_comm, pair.comm_during_compute);
      rates.contention_by_format[key] = pair;
    }
  }
  if (r.has("codecs")) {
    const auto codecs = r.table("codecs");
    for (const auto& [k, v] : codecs.raw()) {
      const std::string key(k.str());
      find_wire_format(key, codecs.field(key));
      rates.codec_bytes_per_s[key] = codecs.number(key, 1e15);
    }
  }
  // each direction at its own rate (since 2026-12-02: the fp16 hook's cast with the division takes many times its
  // copy back, and the timeline places them apart): a format of [codecs] only, and both directions or neither
  for (const auto& [table, rates_of] : {std::pair{"codec_encode", &rates.codec_encode_bytes_per_s},
                                        std::pair{"codec_decode", &rates.codec_decode_bytes_per_s}}) {
    if (!r.has(table)) continue;
    const auto one = r.table(table);
    for (const auto& [k, v] : one.raw()) {
      const std::string key(k.str());
      find_wire_format(key, one.field(key));
      if (!rates.codec_bytes_per_s.contains(key)) {
        throw InputError(path, one.field(key), "", "names a format that [codecs] does not hold");
      }
      (*rates_of)[key] = one.number(key, 1e15);
    }
  }
  const auto paired = [&](const std::map<std::string, double>& have, std::string_view have_table,
                           const std::map<std::string, double>& need, std::string_view need_table) {
    for (const auto& entry : have) {
      if (!need.contains(entry.first)) {
        throw InputError(path, fmt::format("{}.{}", need_table, entry.first), "",
                         fmt::format("missing: [{}] holds {}, and a codec's two directions come together", have_table,
                                     entry.first));
      }
    }
  };
  paired(rates.codec_encode_bytes_per_s, "codec_encode", rates.codec_decode_bytes_per_s, "codec_decode");
  paired(rates.codec_decode_bytes_per_s, "codec_decode", rates.codec_encode_bytes_per_s, "codec_encode");
  std::map<std::string, Workload> workloads;
  for (const auto& l : table_array(r, "layer")) {
    l.only({"workload", "layer", "batch", "seconds", "seconds_first", "seconds_second", "seconds_third"});
    const auto file = l.text("workload");
    auto it = workloads.find(file);
    if (it == workloads.end()) {
      try {
        it = workloads.emplace(file, workload_of(file)).first;
      } catch (const InputError& e) {
        throw InputError(path, l.field("workload"), file, e.what());
      }
      rates.layer_workloads += (rates.layer_workloads.empty() ? "" : ", ") + it->second.name;
    }
    const auto& w = it->second;
    const auto name = l.text("layer");
    const auto layer = std::find_if(w.layers.begin(), w.layers.end(), [&](const Layer& x) { return x.name == name; });
    if (layer == w.layers.end()) throw InputError(path, l.field("layer"), name, "is not a layer of " + w.name);
    const auto batch = l.integer("batch", 1, 1 << 24);
    const auto key = layer_shape_key(*layer, ComputePrecision::fp32, batch);
    if (key.empty()) throw InputError(path, l.field("layer"), name, "has no shape (a linear or conv layer is needed)");
    const double flops = 3.0 * layer->forward_flops * static_cast<double>(batch), kept = l.number("seconds", 1e6);
    rates.layer_flops_per_s[key] = flops / kept;
    // the three measurements the kept seconds are the median of (since 2026-12-02): all three or none
    const auto first = l.optional_number("seconds_first", 1e6), second = l.optional_number("seconds_second", 1e6),
               third = l.optional_number("seconds_third", 1e6);
    if (first || second || third) {
      if (!(first && second && third)) {
        const char* missing = !first ? "seconds_first" : !second ? "seconds_second" : "seconds_third";
        throw InputError(path, l.field(missing), "", "missing: a layer's three measurements go together (give "
                                                     "seconds_first, seconds_second and seconds_third, or none)");
      }
      const double median = median_of_three(*first, *second, *third);
      if (std::abs(kept - median) > 1e-9 * median) {
        throw InputError(path, l.field("seconds"), format_value(kept),
                         fmt::format("is not the median of seconds_first, seconds_second and seconds_third ({})",
                                     format_value(median)));
      }
      rates.layer_flops_measured[key] = {flops / *first, flops / *second, flops / *third};
    }
  }
  for (const auto& t : table_array(r, "collective")) {
    // one rank has nothing to sum with: a collective timed there is not a link's
    if (scope.ranks == 1) {
      throw InputError(path, t.field("op"), "", "a collective at ranks = 1 times no link (drop it)");
    }
    t.only({"op", "type", "bytes", "median_s", "min_s", "max_s"});
    MpiTiming c;
    c.op = parse_collective_op(t.text("op"), t.field("op"));
    c.type = t.text("type");
    c.bytes = t.number("bytes", 1e15);
    c.median_s = t.number("median_s", 1e6);
    c.min_s = t.number("min_s", 1e6);
    c.max_s = t.number("max_s", 1e6);
    if (!(c.min_s <= c.median_s && c.median_s <= c.max_s)) {
      throw InputError(path, t.field("median_s"), format_value(c.median_s), "must lie between min_s and max_s");
    }
    m.timings.push_back(c);
  }
  const bool links = std::any_of(m.timings.begin(), m.timings.end(), [](const MpiTiming& t) {
    return t.op == CollectiveOp::allreduce && t.type == "fp32";
  });
  if (scope.ranks > 1 && !links) {
    throw InputError(path, "collective", "",
                     "holds no fp32 allreduce series (op = \"allreduce\", type = \"fp32\"): the links need it");
  }
  return m;
}

EngineProfile engine_profile(const EngineMeasurements& m, const std::string& file, double max_error,
                             std::ostream& out, std::ostream& err) {
  const auto& scope = m.scope;
  const std::string command = fmt::format("{} ({}, {}), {} ranks on {} ({}), {}; fitted by bitscale calibrate "
                                          "--from-engine {}",
                                          m.command, m.engine, m.version, scope.ranks, scope.host, scope.cpu, m.date,
                                          std::filesystem::path(file).filename().string());
  const HostEngine words{
      .kernels = m.engine + "'s",
      .layer_kernels = m.engine + "'s layers (" + m.version + ", one thread)",
      .conv = "3x3 convolution",
      .gemm = m.engine + " fp32 GEMM 512^3 (" + m.version + "), one thread per rank",
      .codecs = m.engine + "'s compression (to the wire format, divided by the ranks, and back) on " + m.codec_values +
                ", both directions together (2 x bytes read + written over their summed times)",
      .comm_load = fmt::format("allreduce of {:g} MiB (fp32{}) through {}", m.rates.contention_bytes / 1048576,
                               m.contention_sizing.empty() ? "" : "; " + m.contention_sizing, m.library),
      .format_comm_load = fmt::format("allreduce of {:g} MiB of {{}} values ({}) through {}",
                                      m.rates.contention_bytes / 1048576, m.collective_values, m.library),
      .layer_timing = m.layer_timing,
      .gemm_probe = m.engine + "'s (" + m.version + ", one thread)",
      .contention_samples = m.contention_samples,
      .rank_skew_timing = m.rank_skew_timing,
  };
  out << fmt::format("# bitscale calibrate --from-engine {}: {} {} ({}), {} ranks on {} node{}, {}\n", file, m.engine,
                     m.library, m.version, scope.ranks, scope.nodes, scope.nodes == 1 ? "" : "s", m.date);
  print_host_rates(m.rates, out);
  EngineProfile p;
  p.profile = host_profile(m.rates, words, scope, command);
  p.profile.collective_library = m.library;
  if (scope.ranks == 1) set_links_of_one_rank(p.profile);
  p.fits = fit_series(m.timings, "fp32", scope.ranks, scope.nodes, max_error, command, p.profile, out, err);
  // a format's sums can be slower on some values (fp16 subnormals): say which ones it was timed on
  for (const char* key : {"reductions", "reduction_sizes"}) {
    if (auto it = p.profile.sources.find(key); it != p.profile.sources.end()) {
      it->second = "summing " + m.collective_values + ": " + it->second;
    }
  }
  return p;
}

int calibrate_from_engine(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  const double max_error = parse_positive("--max-error", o.max_error, 1000);
  if (!o.out.empty()) check_output_path(o.out, "--out");
  const std::string& path = o.from_engine;
  // a measured layer's workload: a shipped name, or a file from here or beside the measurements
  const auto m = parse_engine_measurements(read_text_file(path, "--from-engine"), path, [&](const std::string& w) {
    return find_workload(find_beside(w, path));
  });
  auto p = engine_profile(m, path, max_error, out, err);
  if (p.fits.links_failed) return 1;
  p.profile.name = o.out.empty() ? m.engine + "-calibrated" : std::filesystem::path(o.out).stem().string();
  p.profile.source = o.out;
  return finish_profile(p.profile, p.fits.ok, o, out, err,
                        o.out.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                      : std::vector<std::pair<std::string, std::string>>{
                                            {measurements_csv_path(o.out), p.fits.csv}});
}

}  // namespace bitscale
