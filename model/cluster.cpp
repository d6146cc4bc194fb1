#include "model/cluster.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <tuple>
#include <vector>

#include "kernels/input_error.hpp"
#include "kernels/wire_format.hpp"
#include "model/embedded.hpp"
#include "model/parse.hpp"
#include "model/toml_reader.hpp"

namespace bitscale {

namespace {

constexpr double kMaxGbps = 1e6;         // 1 Pbit/s per link: far beyond any hardware
constexpr double kMaxLatencyUs = 1e6;    // one second
constexpr double kMaxTflops = 1e6;
constexpr double kMaxMemoryGib = 1e6;

// [[intra_node.regime]] max_bytes, bandwidth_gbps, latency_us: by increasing max_bytes
std::vector<LinkRegime> parse_regimes(const TomlReader& level) {
  std::vector<LinkRegime> out;
  const auto* list = level.raw().get("regime");
  if (list == nullptr) return out;
  if (!list->is_array_of_tables()) {
    throw InputError(level.source(), level.field("regime"), "", "must be [[...regime]] tables");
  }
  std::size_t i = 0;
  for (const auto& node : *list->as_array()) {
    const TomlReader r(*node.as_table(), level.source(), level.field("regime") + fmt::format("[{}].", i++));
    r.only({"max_bytes", "bandwidth_gbps", "latency_us"});
    LinkRegime g{r.number("max_bytes", 1e18), r.number("bandwidth_gbps", kMaxGbps), r.number("latency_us", kMaxLatencyUs, true)};
    if (!out.empty() && !(g.max_bytes > out.back().max_bytes)) {
      throw InputError(level.source(), r.field("max_bytes"), format_value(g.max_bytes), "regimes must grow in max_bytes");
    }
    out.push_back(g);
  }
  return out;
}

void collect_sources(const toml::table& t, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (key == "source") {
      if (const auto s = v.value<std::string>()) {
        out[prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1)] = *s;
      } else if (v.is_table()) {
        for (const auto& [sk, sv] : *v.as_table()) {
          if (const auto text = sv.value<std::string>()) out[prefix + std::string(sk.str())] = *text;
        }
      }
    } else if (v.is_table()) {
      collect_sources(*v.as_table(), prefix + key + ".", out);
    }
  }
}

}  // namespace

void ClusterProfile::set_inter_node_gbps_per_gpu(double gbps) {
  nics_per_node = gpus_per_node;
  nic_gbps = gbps;
  inter_node_regimes.clear();
  sources["inter_node.nic_bandwidth_gbps"] = "--bandwidth-gbps";
}

void ClusterProfile::validate() const {
  auto check = [&](const char* field, double v, double max, bool allow_zero = false) {
    const auto rule = positive_rule(v, max, allow_zero);
    if (!rule.empty()) throw InputError(source, field, format_value(v), rule);
  };
  if (gpus_per_node < 1 || gpus_per_node > 1024) {
    throw InputError(source, "node.gpus_per_node", std::to_string(gpus_per_node), "must be between 1 and 1024");
  }
  if (nics_per_node < 1 || nics_per_node > 1024) {
    throw InputError(source, "inter_node.nics_per_node", std::to_string(nics_per_node), "must be between 1 and 1024");
  }
  if (network_topology != "fat-tree" && network_topology != "rail-optimized") {
    throw InputError(source, "inter_node.topology", network_topology, "unknown topology; valid: fat-tree, rail-optimized");
  }
  if (nodes_per_leaf < 1 || nodes_per_leaf > (1 << 20)) {
    throw InputError(source, "inter_node.nodes_per_leaf", std::to_string(nodes_per_leaf),
                     "must be between 1 and 1048576");
  }
  if (!(oversubscription >= 1.0) || oversubscription > 1000.0) {
    throw InputError(source, "inter_node.oversubscription", format_value(oversubscription),
                     "must be between 1 (non-blocking) and 1000");
  }
  check("gpu.memory_gib", gpu_memory_gib, kMaxMemoryGib);
  check("gpu.memory_reserved_gib", memory_reserved_gib, gpu_memory_gib, true);
  check("gpu.hbm_gbyte_per_s", hbm_gbyte_per_s, 1e6);
  check("gpu.codec_hbm_efficiency", codec_hbm_efficiency, 1.0);
  check("gpu.compute_during_comm", compute_during_comm, 1.0);
  check("gpu.comm_during_compute", comm_during_compute, 1.0);
  if (!(rank_skew >= 0) || rank_skew > 10) {
    throw InputError(source, "gpu.rank_skew", format_value(rank_skew), "must be in [0, 10]");
  }
  if (!(comm_launch_s >= 0) || comm_launch_s > 1) {
    throw InputError(source, "gpu.comm_launch_s", format_value(comm_launch_s), "must be in [0, 1] seconds");
  }
  if (!(probe_gflops >= 0) || probe_gflops > 1e9) {
    throw InputError(source, "gpu.probe_gflops", format_value(probe_gflops), "must be in [0, 1e9] (0: not taken)");
  }
  if (compute_during_comm < 0.01) {
    throw InputError(source, "gpu.compute_during_comm", format_value(compute_during_comm), "must be in [0.01, 1]");
  }
  if (comm_during_compute < 0.01) {
    throw InputError(source, "gpu.comm_during_compute", format_value(comm_during_compute), "must be in [0.01, 1]");
  }
  for (const auto& [format, pair] : contention_by_format) {
    for (auto [key, value] : {std::pair{"compute_during_comm", pair.compute_during_comm},
                              std::pair{"comm_during_compute", pair.comm_during_compute}}) {
      if (!(value >= 0.01 && value <= 1)) {
        throw InputError(source, fmt::format("contention.{}.{}", format, key), format_value(value),
                         "must be in [0.01, 1]");
      }
    }
  }
  // a sum's cost by size: as the reader checks it, so that no profile is written that would not load again
  for (const auto& [format, curve] : reduction_by_size) {
    const std::string table = "reduction_sizes." + format;
    if (curve.bytes.empty() || curve.bytes.size() != curve.ns_per_byte.size()) {
      throw InputError(source, table + ".ns_per_byte", "",
                       fmt::format("has {} values for {} sizes: one per size, at least one", curve.ns_per_byte.size(),
                                   curve.bytes.size()));
    }
    for (std::size_t i = 0; i < curve.bytes.size(); ++i) {
      const double b = curve.bytes[i], ns = curve.ns_per_byte[i];
      if (!(b > 0 && b <= 1e15) || (i > 0 && !(b > curve.bytes[i - 1]))) {
        throw InputError(source, fmt::format("{}.bytes[{}]", table, i), format_value(b),
                         "sizes must be in (0, 1e+15] and grow");
      }
      if (!(ns >= 0 && ns <= 1e6)) {
        throw InputError(source, fmt::format("{}.ns_per_byte[{}]", table, i), format_value(ns),
                         "must be a finite number in [0, 1e+06]");
      }
    }
  }
  check("intra_node.bandwidth_gbps", intra_node_gbps, kMaxGbps);
  check("intra_node.latency_us", intra_node_latency_us, kMaxLatencyUs, true);
  check("inter_node.nic_bandwidth_gbps", nic_gbps, kMaxGbps);
  check("inter_node.latency_us", inter_node_latency_us, kMaxLatencyUs, true);
  for (int p = 0; p < kComputePrecisionCount; ++p) {
    const auto field = fmt::format("gpu.peak_tflops.{}", bitscale::name(static_cast<ComputePrecision>(p)));
    const auto rule = positive_rule(peak_tflops[p], kMaxTflops, true);
    if (!rule.empty()) throw InputError(source, field, format_value(peak_tflops[p]), rule);
  }
  if (!supports(ComputePrecision::fp32)) {
    throw InputError(source, "gpu.peak_tflops.fp32", "", "missing: every GPU has an fp32 rate (the 1-GPU baseline)");
  }
  if (!supports(default_compute)) {
    throw InputError(source, "default_compute", std::string(bitscale::name(default_compute)),
                     "the GPU has no peak rate for it in gpu.peak_tflops");
  }
  for (int k = 0; k < kLayerKindCount; ++k) {
    const auto field = fmt::format("efficiency.{}", bitscale::name(static_cast<LayerKind>(k)));
    const auto rule = positive_rule(efficiency[k], 1.0);
    if (!rule.empty()) throw InputError(source, field, format_value(efficiency[k]), rule);
    for (int p = 0; p < kComputePrecisionCount; ++p) {
      const double e = efficiency_by_compute[p][k];
      if (e == 0) continue;  // not given for this precision
      const auto rule_p = positive_rule(e, 1.0);
      if (!rule_p.empty()) {
        throw InputError(source,
                         fmt::format("efficiency.{}.{}", bitscale::name(static_cast<ComputePrecision>(p)),
                                     bitscale::name(static_cast<LayerKind>(k))),
                         format_value(e), rule_p);
      }
    }
  }
}

namespace {

// The profile's codec rate tables by name: both directions together, then each alone.
template <typename Profile>
auto codec_tables(Profile& c) {
  return std::array{std::pair{"codecs", &c.codec_gbyte_per_s}, std::pair{"codec_encode", &c.codec_encode_gbyte_per_s},
                    std::pair{"codec_decode", &c.codec_decode_gbyte_per_s}};
}

}  // namespace

ClusterProfile parse_cluster_toml(std::string_view text, const std::string& source) {
  const auto doc = parse_toml(text, source);
  const TomlReader r(doc, source);
  r.only({"name", "description", "default_compute", "gpu", "node", "intra_node", "inter_node", "efficiency",
          "collectives", "codecs", "codec_encode", "codec_decode", "layer_rates", "reductions", "reduction_sizes",
          "contention", "uncertainty"});
  ClusterProfile c;
  c.source = source;
  c.name = r.text("name");
  c.description = r.optional_text("description").value_or("");

  const auto gpu = r.table("gpu");
  gpu.only({"model", "memory_gib", "memory_reserved_gib", "hbm_gbyte_per_s", "codec_hbm_efficiency", "peak_tflops",
            "compute_during_comm", "comm_during_compute", "rank_skew", "comm_launch_s", "probe_gflops"});
  c.gpu_model = gpu.text("model");
  c.gpu_memory_gib = gpu.number("memory_gib", kMaxMemoryGib);
  c.memory_reserved_gib = gpu.number("memory_reserved_gib", kMaxMemoryGib, true);
  c.hbm_gbyte_per_s = gpu.number("hbm_gbyte_per_s", 1e6);
  c.codec_hbm_efficiency = gpu.number("codec_hbm_efficiency", 1.0);
  c.compute_during_comm = gpu.optional_number("compute_during_comm", 1.0).value_or(1.0);
  c.comm_during_compute = gpu.optional_number("comm_during_compute", 1.0).value_or(1.0);
  c.rank_skew = gpu.optional_number("rank_skew", 10.0, true).value_or(0.0);
  c.comm_launch_s = gpu.optional_number("comm_launch_s", 1.0, true).value_or(0.0);
  c.probe_gflops = gpu.optional_number("probe_gflops", 1e9).value_or(0.0);
  const auto peak = gpu.table("peak_tflops");
  peak.only({"fp32", "tf32", "fp16", "bf16", "fp8"});
  for (int p = 0; p < kComputePrecisionCount; ++p) {
    const auto key = name(static_cast<ComputePrecision>(p));
    c.peak_tflops[p] = peak.optional_number(key, kMaxTflops, true).value_or(0.0);
  }
  c.default_compute = parse_compute_precision(r.text("default_compute"), r.field("default_compute"));

  const auto node = r.table("node");
  node.only({"gpus_per_node"});
  c.gpus_per_node = node.integer("gpus_per_node", 1, 1024);

  const auto intra = r.table("intra_node");
  intra.only({"kind", "bandwidth_gbps", "latency_us", "regime"});
  c.intra_node_kind = intra.text("kind");
  c.intra_node_gbps = intra.number("bandwidth_gbps", kMaxGbps);
  c.intra_node_latency_us = intra.number("latency_us", kMaxLatencyUs, true);

  const auto inter = r.table("inter_node");
  inter.only({"kind", "nics_per_node", "nic_bandwidth_gbps", "latency_us", "regime", "topology", "nodes_per_leaf",
              "oversubscription"});
  c.inter_node_kind = inter.text("kind");
  c.nics_per_node = inter.integer("nics_per_node", 1, 1024);
  c.nic_gbps = inter.number("nic_bandwidth_gbps", kMaxGbps);
  c.inter_node_latency_us = inter.number("latency_us", kMaxLatencyUs, true);
  c.network_topology = inter.optional_text("topology").value_or("fat-tree");  // checked by validate()
  c.nodes_per_leaf = inter.optional_integer("nodes_per_leaf", 1, 1 << 20).value_or(32);
  c.oversubscription = inter.optional_number("oversubscription", 1000.0).value_or(1.0);

  if (r.has("collectives")) {
    const auto coll = r.table("collectives");
    coll.only({"library", "allreduce"});
    c.collective_library = coll.text("library");
    const auto* list = coll.raw().get_as<toml::array>("allreduce");
    if (list == nullptr || list->empty()) {
      throw InputError(source, "collectives.allreduce", "", "must be a non-empty list of algorithm names");
    }
    constexpr std::string_view kNames[] = {"ring", "tree", "halving-doubling", "hierarchical"};
    c.allreduce_algorithm_mask = 0;
    for (const auto& item : *list) {
      const auto name = item.value<std::string_view>();
      std::uint32_t bit = 0;
      for (std::uint32_t i = 0; i < 4; ++i) {
        if (name && *name == kNames[i]) bit = 1u << i;
      }
      if (bit == 0) {
        throw InputError(source, "collectives.allreduce", name ? std::string(*name) : "<not a string>",
                         "unknown algorithm; valid: ring, tree, halving-doubling, hierarchical");
      }
      c.allreduce_algorithm_mask |= bit;
    }
  }

  for (const auto& [table, rates] : codec_tables(c)) {
    if (!r.has(table)) continue;
    const auto one = r.table(table);
    for (const auto& [k, v] : one.raw()) {
      const std::string key(k.str());
      if (key == "source") continue;
      find_wire_format(key, one.field(key));  // a known codec
      (*rates)[key] = one.number(key, 1e6);
    }
  }
  if (r.has("reductions")) {
    const auto sums = r.table("reductions");
    for (const auto& [k, v] : sums.raw()) {
      const std::string key(k.str());
      if (key == "source") continue;
      if (key == "fp32") throw InputError(source, sums.field(key), "", "fp32 sums are in the link fit: list other formats");
      find_wire_format(key, sums.field(key));  // a known wire format
      c.reduction_gbyte_per_s[key] = sums.number(key, 1e6);
    }
  }
  if (r.has("reduction_sizes")) {
    const auto by_size = r.table("reduction_sizes");
    for (const auto& [k, v] : by_size.raw()) {
      const std::string key(k.str());
      if (key == "source") continue;
      if (key == "fp32") {
        throw InputError(source, by_size.field(key), "", "fp32 sums are in the link fit: list other formats");
      }
      find_wire_format(key, by_size.field(key));  // a known wire format
      const auto one = by_size.table(key);
      one.only({"bytes", "ns_per_byte"});
      ReductionCurve curve;
      for (auto [name, values, max, zero] : {std::tuple{"bytes", &curve.bytes, 1e15, false},
                                             std::tuple{"ns_per_byte", &curve.ns_per_byte, 1e6, true}}) {
        const auto* list = one.raw().get_as<toml::array>(name);
        if (list == nullptr || list->empty()) {
          throw InputError(source, one.field(name), "", "must be a non-empty list of numbers");
        }
        for (std::size_t i = 0; i < list->size(); ++i) {
          const auto x = (*list)[i].value<double>();
          const std::string field = one.field(name) + fmt::format("[{}]", i);
          if (!x) throw InputError(source, field, "", "must be a number");
          if (!std::isfinite(*x) || *x < 0 || (!zero && *x == 0) || *x > max) {
            throw InputError(source, field, format_value(*x),
                             fmt::format("must be a finite number in {}0, {:g}]", zero ? "[" : "(", max));
          }
          if (values == &curve.bytes && i > 0 && !(*x > curve.bytes.back())) {
            throw InputError(source, field, format_value(*x), "sizes must grow");
          }
          values->push_back(*x);
        }
      }
      if (curve.bytes.size() != curve.ns_per_byte.size()) {
        throw InputError(source, one.field("ns_per_byte"), "",
                         fmt::format("has {} values for {} sizes: one per size", curve.ns_per_byte.size(),
                                     curve.bytes.size()));
      }
      c.reduction_by_size[key] = std::move(curve);
    }
  }
  if (r.has("contention")) {
    const auto by_format = r.table("contention");
    for (const auto& [k, v] : by_format.raw()) {
      const std::string key(k.str());
      if (key == "source") continue;
      find_wire_format(key, by_format.field(key));  // a known wire format
      const auto one = by_format.table(key);
      one.only({"compute_during_comm", "comm_during_compute", "source"});
      c.contention_by_format[key] = {one.number("compute_during_comm", 1.0), one.number("comm_during_compute", 1.0)};
    }
  }
  if (r.has("layer_rates")) {
    const auto rates = r.table("layer_rates");
    for (const auto& [k, v] : rates.raw()) {
      const std::string key(k.str());
      if (key == "source") continue;
      c.layer_gflops[key] = rates.number(key, 1e9);
    }
  }
  if (r.has("uncertainty")) {
    const auto u = r.table("uncertainty");
    u.only({"compute", "memory_bandwidth", "codecs", "node_bandwidth", "node_latency", "network_bandwidth",
            "network_latency", "source"});
    auto& cu = c.uncertainty;
    for (auto [key, value] : {std::pair{"compute", &cu.compute}, std::pair{"memory_bandwidth", &cu.memory_bandwidth},
                              std::pair{"codecs", &cu.codecs}, std::pair{"node_bandwidth", &cu.node_bandwidth},
                              std::pair{"node_latency", &cu.node_latency},
                              std::pair{"network_bandwidth", &cu.network_bandwidth},
                              std::pair{"network_latency", &cu.network_latency}}) {
      // a relative standard uncertainty beyond 1 (a factor e either way at one sigma) says nothing usable
      *value = u.optional_number(key, 1.0, true).value_or(0.0);
    }
  }
  c.intra_node_regimes = parse_regimes(intra);
  c.inter_node_regimes = parse_regimes(inter);
  collect_sources(doc, "", c.sources);

  const auto eff = r.table("efficiency");
  for (int k = 0; k < kLayerKindCount; ++k) {
    const auto key = name(static_cast<LayerKind>(k));
    c.efficiency[k] = eff.number(key, 1.0);
  }
  // optional per-precision tables: each kind they list overrides [efficiency] for that compute precision
  for (int p = 0; p < kComputePrecisionCount; ++p) {
    const auto precision = name(static_cast<ComputePrecision>(p));
    if (!eff.has(precision)) continue;
    const auto one = eff.table(precision);
    for (int k = 0; k < kLayerKindCount; ++k) {
      const auto key = name(static_cast<LayerKind>(k));
      if (one.has(key)) c.efficiency_by_compute[p][k] = one.number(key, 1.0);
    }
    one.only({"conv", "linear", "attention", "recurrent", "embedding", "norm", "pool", "elementwise"});
  }
  eff.only({"conv", "linear", "attention", "recurrent", "embedding", "norm", "pool", "elementwise", "fp32", "tf32",
            "fp16", "bf16", "fp8"});
  c.validate();
  return c;
}

namespace {

// Adds `value` under `key` of `t`, with its source (field source first, else none: the table's is added apart).
template <typename T>
void put(toml::table& t, const ClusterProfile& c, const std::string& table, const std::string& key, T value) {
  t.insert_or_assign(key, value);
  const auto it = c.sources.find(table.empty() ? key : table + "." + key);
  if (it == c.sources.end()) return;
  if (!t.contains("source")) t.insert("source", toml::table{});
  if (auto* s = t.get_as<toml::table>("source")) s->insert_or_assign(key, it->second);
}

void put_table_source(toml::table& t, const ClusterProfile& c, const std::string& table) {
  const auto it = c.sources.find(table);
  if (it != c.sources.end() && !t.contains("source")) t.insert("source", it->second);
}

toml::array regimes_toml(const std::vector<LinkRegime>& regimes) {
  toml::array a;
  for (const auto& r : regimes) {
    a.push_back(toml::table{{"max_bytes", r.max_bytes}, {"bandwidth_gbps", r.bandwidth_gbps},
                            {"latency_us", r.latency_us}});
  }
  return a;
}

}  // namespace

std::string to_toml(const ClusterProfile& c) {
  toml::table doc;
  put(doc, c, "", "name", c.name);
  put(doc, c, "", "description", c.description);
  put(doc, c, "", "default_compute", std::string(bitscale::name(c.default_compute)));

  toml::table gpu;
  put(gpu, c, "gpu", "model", c.gpu_model);
  put(gpu, c, "gpu", "memory_gib", c.gpu_memory_gib);
  put(gpu, c, "gpu", "memory_reserved_gib", c.memory_reserved_gib);
  put(gpu, c, "gpu", "hbm_gbyte_per_s", c.hbm_gbyte_per_s);
  put(gpu, c, "gpu", "codec_hbm_efficiency", c.codec_hbm_efficiency);
  if (c.compute_during_comm < 1) put(gpu, c, "gpu", "compute_during_comm", c.compute_during_comm);
  if (c.comm_during_compute < 1) put(gpu, c, "gpu", "comm_during_compute", c.comm_during_compute);
  if (c.rank_skew > 0) put(gpu, c, "gpu", "rank_skew", c.rank_skew);
  if (c.comm_launch_s > 0) put(gpu, c, "gpu", "comm_launch_s", c.comm_launch_s);
  if (c.probe_gflops > 0) put(gpu, c, "gpu", "probe_gflops", c.probe_gflops);
  toml::table peak;
  for (int p = 0; p < kComputePrecisionCount; ++p) {
    if (c.peak_tflops[p] > 0) {
      put(peak, c, "gpu.peak_tflops", std::string(bitscale::name(static_cast<ComputePrecision>(p))), c.peak_tflops[p]);
    }
  }
  put_table_source(peak, c, "gpu.peak_tflops");
  gpu.insert("peak_tflops", std::move(peak));
  put_table_source(gpu, c, "gpu");
  doc.insert("gpu", std::move(gpu));

  toml::table node;
  put(node, c, "node", "gpus_per_node", c.gpus_per_node);
  doc.insert("node", std::move(node));

  toml::table intra;
  put(intra, c, "intra_node", "kind", c.intra_node_kind);
  put(intra, c, "intra_node", "bandwidth_gbps", c.intra_node_gbps);
  put(intra, c, "intra_node", "latency_us", c.intra_node_latency_us);
  if (!c.intra_node_regimes.empty()) put(intra, c, "intra_node", "regime", regimes_toml(c.intra_node_regimes));
  doc.insert("intra_node", std::move(intra));

  toml::table inter;
  put(inter, c, "inter_node", "kind", c.inter_node_kind);
  put(inter, c, "inter_node", "nics_per_node", c.nics_per_node);
  put(inter, c, "inter_node", "nic_bandwidth_gbps", c.nic_gbps);
  put(inter, c, "inter_node", "latency_us", c.inter_node_latency_us);
  put(inter, c, "inter_node", "topology", c.network_topology);
  put(inter, c, "inter_node", "nodes_per_leaf", c.nodes_per_leaf);
  put(inter, c, "inter_node", "oversubscription", c.oversubscription);
  if (!c.inter_node_regimes.empty()) put(inter, c, "inter_node", "regime", regimes_toml(c.inter_node_regimes));
  doc.insert("inter_node", std::move(inter));

  toml::table eff;
  for (int k = 0; k < kLayerKindCount; ++k) {
    put(eff, c, "efficiency", std::string(bitscale::name(static_cast<LayerKind>(k))), c.efficiency[k]);
  }
  put_table_source(eff, c, "efficiency");
  for (int p = 0; p < kComputePrecisionCount; ++p) {
    const std::string table = "efficiency." + std::string(bitscale::name(static_cast<ComputePrecision>(p)));
    toml::table one;
    for (int k = 0; k < kLayerKindCount; ++k) {
      const double e = c.efficiency_by_compute[p][k];
      if (e > 0) put(one, c, table, std::string(bitscale::name(static_cast<LayerKind>(k))), e);
    }
    if (one.empty()) continue;
    put_table_source(one, c, table);
    eff.insert(std::string(bitscale::name(static_cast<ComputePrecision>(p))), std::move(one));
  }
  doc.insert("efficiency", std::move(eff));

  for (const auto& [table, rates] : codec_tables(c)) {
    if (rates->empty()) continue;
    toml::table one;
    for (const auto& [name, rate] : *rates) put(one, c, table, name, rate);
    put_table_source(one, c, table);
    doc.insert(table, std::move(one));
  }

  if (!c.reduction_gbyte_per_s.empty()) {
    toml::table sums;
    for (const auto& [name, rate] : c.reduction_gbyte_per_s) put(sums, c, "reductions", name, rate);
    put_table_source(sums, c, "reductions");
    doc.insert("reductions", std::move(sums));
  }

  if (!c.reduction_by_size.empty()) {
    toml::table by_size;
    for (const auto& [format, curve] : c.reduction_by_size) {
      toml::table one;
      toml::array bytes, ns;
      for (double b : curve.bytes) bytes.push_back(b);
      for (double x : curve.ns_per_byte) ns.push_back(x);
      one.insert("bytes", std::move(bytes));
      one.insert("ns_per_byte", std::move(ns));
      by_size.insert(format, std::move(one));
    }
    put_table_source(by_size, c, "reduction_sizes");
    doc.insert("reduction_sizes", std::move(by_size));
  }

  if (!c.contention_by_format.empty()) {
    toml::table by_format;
    for (const auto& [format, pair] : c.contention_by_format) {
      const std::string table = "contention." + format;
      toml::table one;
      put(one, c, table, "compute_during_comm", pair.compute_during_comm);
      put(one, c, table, "comm_during_compute", pair.comm_during_compute);
      put_table_source(one, c, table);
      by_format.insert(format, std::move(one));
    }
    put_table_source(by_format, c, "contention");
    doc.insert("contention", std::move(by_format));
  }

  if (!c.layer_gflops.empty()) {
    toml::table rates;
    for (const auto& [key, rate] : c.layer_gflops) put(rates, c, "layer_rates", key, rate);
    put_table_source(rates, c, "layer_rates");
    doc.insert("layer_rates", std::move(rates));
  }

  if (c.uncertainty.stated()) {
    toml::table u;
    const auto& cu = c.uncertainty;
    for (auto [key, value] : {std::pair{"compute", cu.compute}, std::pair{"memory_bandwidth", cu.memory_bandwidth},
                              std::pair{"codecs", cu.codecs}, std::pair{"node_bandwidth", cu.node_bandwidth},
                              std::pair{"node_latency", cu.node_latency},
                              std::pair{"network_bandwidth", cu.network_bandwidth},
                              std::pair{"network_latency", cu.network_latency}}) {
      put(u, c, "uncertainty", key, value);
    }
    put_table_source(u, c, "uncertainty");
    doc.insert("uncertainty", std::move(u));
  }

  toml::table coll;
  put(coll, c, "collectives", "library", c.collective_library);
  toml::array algorithms;
  constexpr std::string_view kNames[] = {"ring", "tree", "halving-doubling", "hierarchical"};
  for (std::uint32_t i = 0; i < 4; ++i) {
    if (c.allreduce_algorithm_mask & (1u << i)) algorithms.push_back(std::string(kNames[i]));
  }
  put(coll, c, "collectives", "allreduce", std::move(algorithms));
  put_table_source(coll, c, "collectives");
  doc.insert("collectives", std::move(coll));

  std::ostringstream out;
  out << "# bitscale cluster profile (bitscale cluster show FILE prints it; every number has a source)\n"
      << doc << "\n";
  return out.str();
}

std::span<const std::string_view> shipped_cluster_names() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> names;
    for (const auto& f : embedded_cluster_files()) names.push_back(f.stem);
    return names;
  }();
  return kNames;
}

std::string_view shipped_cluster_text(std::string_view name) {
  for (const auto& f : embedded_cluster_files()) {
    if (f.stem == name) return f.text;
  }
  return {};
}

ClusterProfile find_cluster(std::string_view name_or_path, std::string_view field) {
  const auto text = shipped_cluster_text(name_or_path);
  if (!text.empty()) return parse_cluster_toml(text, "shipped:" + std::string(name_or_path));
  std::error_code ec;
  if (name_or_path.ends_with(".toml") || std::filesystem::exists(std::string(name_or_path), ec)) {
    const std::string path(name_or_path);
    return parse_cluster_toml(read_text_file(path, field), path);
  }
  std::string valid;
  for (auto n : shipped_cluster_names()) valid += std::string(n) + ", ";
  throw InputError("", std::string(field), std::string(name_or_path),
                   "unknown cluster; valid: " + valid + "or a path to a .toml file");
}

}  // namespace bitscale
