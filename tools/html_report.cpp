#include "tools/html_report.hpp"

#include <fmt/format.h>

#include <sstream>

#include "model/compute.hpp"
#include "tools/plot.hpp"

namespace bitscale {

namespace {

constexpr const char* kStyle = R"(body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.4}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:0.9em;margin:0.5em 0}th,td{padding:0.2em 0.6em;border-bottom:1px solid #e4e4e4}
th{text-align:left;background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.src{font-size:0.85em;color:#555}.note{color:#555;font-size:0.9em}svg{max-width:100%;height:auto}
code{background:#f4f4f4;padding:0 0.2em})";

std::string h(const std::string& s) { return xml_escape(s); }

}  // namespace

std::string html_report(const ReportInput& in) {
  const auto& w = *in.workload;
  const auto& c = *in.cluster;
  const auto& d = in.detail;
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  o << fmt::format("<title>bitscale report: {} on {}</title>\n<style>{}</style></head><body>\n", h(w.name), h(c.name),
                   kStyle);
  o << fmt::format("<h1>{} on {}: step time, throughput and scaling by gradient precision</h1>\n", h(w.name), h(c.name));
  o << fmt::format("<p class=\"note\">Made by <code>{}</code> on {} UTC. Predictor: {}. Intervals are 90%, from the "
                   "profile's stated uncertainty sampled 64 times.</p>\n",
                   h(in.command), h(in.date), h(d.predictor));

  o << "<h2>Speedup</h2>\n" << speedup_svg(in.rows);
  o << "<h2>Predictions</h2>\n<table><tr><th>GPUs</th><th>precision</th><th>compute</th><th>Gb/s per GPU</th>"
       "<th>batch</th><th>step ms</th><th>90% interval ms</th><th>comm ms</th><th>exposed ms</th><th>samples/s</th>"
       "<th>speedup</th><th>efficiency</th><th>memory GiB</th><th>algorithm</th></tr>\n";
  for (const auto& p : in.rows) {
    o << fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{:g}</td><td class=\"n\">{}</td>"
                     "<td class=\"n\">{:.2f}</td><td class=\"n\">{}</td><td class=\"n\">{:.2f}</td><td class=\"n\">{:.2f}"
                     "</td><td class=\"n\">{:.1f}</td><td class=\"n\">{:.2f}</td><td class=\"n\">{:.1f}%</td>"
                     "<td class=\"n\">{:.1f}{}</td><td>{}</td></tr>\n",
                     p.gpus, h(p.precision), h(p.compute), p.bandwidth_gbps, p.batch, p.step_time_s * 1e3,
                     p.has_interval ? fmt::format("{:.2f} .. {:.2f}", p.step_time_low_s * 1e3, p.step_time_high_s * 1e3)
                                    : std::string("-"),
                     p.comm_s * 1e3, p.exposed_comm_s * 1e3, p.throughput_samples_per_s, p.speedup, 100 * p.efficiency,
                     p.memory_per_gpu_bytes / (1024.0 * 1024 * 1024), p.fits_in_memory ? "" : " (does not fit)",
                     h(p.algorithm));
  }
  o << "</table>\n<p class=\"note\">Speedup is over one GPU in the same precision at the same per-GPU batch.</p>\n";

  o << fmt::format("<h2>One step of {} GPUs, {} gradients</h2>\n", d.gpus, h(d.precision));
  o << fmt::format("<p>Step {:.3f} ms (90%: {:.3f} .. {:.3f}) = compute {:.3f} ms + exposed communication {:.3f} ms; "
                   "communication {:.3f} ms and codec {:.3f} ms in total, in {} bucket{}; {:.1f} samples/s.</p>\n",
                   d.step_time_s * 1e3, d.step_time_low_s * 1e3, d.step_time_high_s * 1e3, d.compute_s * 1e3,
                   d.exposed_comm_s * 1e3, d.comm_s * 1e3, d.codec_s * 1e3, d.buckets, d.buckets == 1 ? "" : "s",
                   d.throughput_samples_per_s);
  if (d.timeline) o << timeline_svg(d);
  o << "<h3>What moves the step time</h3>\n<p class=\"note\">Elasticity d log(step time) / d log(parameter) by "
       "central differences of +-5%: +1% of the parameter changes the step time by this many percent.</p>\n"
       "<table><tr><th>parameter</th><th>elasticity</th></tr>\n";
  for (const auto& e : in.sensitivity) {
    o << fmt::format("<tr><td>{}</td><td class=\"n\">{:+.3f}</td></tr>\n", h(e.parameter), e.value);
  }
  o << "</table>\n";

  o << fmt::format("<h2>Workload: {}</h2>\n<p>{}. Source: {}. One sample: {}; {} parameters in {} layers, {:.4g} "
                   "forward GFLOP per sample; default batch {} per GPU.</p>\n",
                   h(w.name), h(w.description), h(w.source), h(w.sample), w.parameters(), w.layers.size(),
                   w.forward_flops() / 1e9, w.default_batch);

  o << fmt::format("<h2>Cluster profile: {}</h2>\n<p>{}</p>\n<table><tr><th>number</th><th>value</th><th>source</th>"
                   "</tr>\n",
                   h(c.name), h(c.description));
  auto row = [&](const std::string& label, const std::string& value, const std::string& key) {
    std::string source;
    for (std::string k = key; !k.empty(); k = k.find('.') == std::string::npos ? "" : k.substr(0, k.rfind('.'))) {
      if (auto it = c.sources.find(k); it != c.sources.end()) {
        source = it->second;
        break;
      }
    }
    o << fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"src\">{}</td></tr>\n", h(label), h(value),
                     h(source.empty() ? "-" : source));
  };
  row("GPU", c.gpu_model, "gpu.model");
  row("GPU memory", fmt::format("{:g} GiB", c.gpu_memory_gib), "gpu.memory_gib");
  row("memory bandwidth", fmt::format("{:g} GB/s", c.hbm_gbyte_per_s), "gpu.hbm_gbyte_per_s");
  for (int k = 0; k < kComputePrecisionCount; ++k) {
    if (c.peak_tflops[k] > 0) {
      const std::string n(name(static_cast<ComputePrecision>(k)));
      row("peak " + n, fmt::format("{:g} TFLOP/s", c.peak_tflops[k]), "gpu.peak_tflops." + n);
    }
  }
  for (int k = 0; k < kLayerKindCount; ++k) {
    const std::string n(name(static_cast<LayerKind>(k)));
    row("efficiency " + n, fmt::format("{:g}", c.efficiency[k]), "efficiency." + n);
    for (int p = 0; p < kComputePrecisionCount; ++p) {
      if (c.efficiency_by_compute[p][k] == 0) continue;
      const std::string pn(name(static_cast<ComputePrecision>(p)));
      row("efficiency " + n + " (" + pn + ")", fmt::format("{:g}", c.efficiency_by_compute[p][k]),
          "efficiency." + pn + "." + n);
    }
  }
  row("GPUs per node", std::to_string(c.gpus_per_node), "node.gpus_per_node");
  row("node links", fmt::format("{:g} Gb/s per GPU, {:g} us", c.intra_node_gbps, c.intra_node_latency_us),
      "intra_node.bandwidth_gbps");
  row("network", fmt::format("{} x {:g} Gb/s per node ({:g} Gb/s per GPU), {:g} us", c.nics_per_node, c.nic_gbps,
                             c.inter_node_gbps_per_gpu(), c.inter_node_latency_us),
      "inter_node.nic_bandwidth_gbps");
  row("collective library", c.collective_library, "collectives");
  for (const auto& [codec, rate] : c.codec_gbyte_per_s) row("codec " + codec, fmt::format("{:g} GB/s", rate), "codecs." + codec);
  for (const auto& [codec, rate] : c.codec_encode_gbyte_per_s) {
    row("codec " + codec + " encode", fmt::format("{:g} GB/s", rate), "codec_encode." + codec);
  }
  for (const auto& [codec, rate] : c.codec_decode_gbyte_per_s) {
    row("codec " + codec + " decode", fmt::format("{:g} GB/s", rate), "codec_decode." + codec);
  }
  const auto& u = c.uncertainty;
  row("uncertainty (1 sd, relative)",
      fmt::format("compute {:g}, memory {:g}, codecs {:g}, node {:g} / {:g}, network {:g} / {:g}", u.compute,
                  u.memory_bandwidth, u.codecs, u.node_bandwidth, u.node_latency, u.network_bandwidth,
                  u.network_latency),
      "uncertainty");
  o << "</table>\n</body></html>\n";
  return o.str();
}

}  // namespace bitscale
