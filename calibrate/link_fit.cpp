#include "calibrate/link_fit.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernels/input_error.hpp"

namespace bitscale {

void apply_allreduce_fit(ClusterProfile& profile, const PiecewiseFit& fit, std::int64_t ranks, std::int64_t nodes,
                         const std::string& source) {
  BITSCALE_CHECK(ranks >= 2 && nodes >= 1 && ranks % nodes == 0) << "ranks " << ranks << " nodes " << nodes;
  const auto p = static_cast<double>(ranks);
  const auto n_nodes = static_cast<double>(nodes);
  const double g = p / n_nodes;
  std::vector<LinkRegime> regimes;
  const bool one_node = nodes == 1;
  for (std::size_t i = 0; i < fit.regimes.size(); ++i) {
    const auto& r = fit.regimes[i];
    LinkRegime link;
    link.max_bytes = i + 1 < fit.regimes.size() ? r.max_bytes : 1e18;
    const double ring_bytes_per_s = 2.0 * (p - 1) / p * r.bytes_per_s;
    if (one_node) {
      link.latency_us = r.alpha_s / (2.0 * (p - 1)) * 1e6;
      link.bandwidth_gbps = ring_bytes_per_s * 8 / 1e9;
    } else {
      const double alpha_i = profile.intra_node_latency_us * 1e-6;
      link.latency_us = std::max(0.0, (r.alpha_s / 2.0 - (p - n_nodes) * alpha_i) / (n_nodes - 1)) * 1e6;
      link.bandwidth_gbps = ring_bytes_per_s / g * 8 / 1e9;  // per GPU: the node's NIC bandwidth over g
    }
    regimes.push_back(link);
  }
  const auto& top = regimes.back();  // the largest sizes: the link's bandwidth and latency for big messages
  const std::string level = one_node ? "intra_node" : "inter_node";
  if (one_node) {
    profile.gpus_per_node = std::max<std::int64_t>(profile.gpus_per_node, ranks);
    profile.intra_node_gbps = top.bandwidth_gbps;
    profile.intra_node_latency_us = top.latency_us;
    profile.intra_node_regimes = regimes.size() > 1 ? regimes : std::vector<LinkRegime>{};
  } else {
    profile.gpus_per_node = static_cast<std::int64_t>(g);
    profile.nics_per_node = profile.gpus_per_node;
    profile.nic_gbps = top.bandwidth_gbps;
    profile.inter_node_latency_us = top.latency_us;
    profile.inter_node_regimes = regimes.size() > 1 ? regimes : std::vector<LinkRegime>{};
  }
  for (const char* key : {"bandwidth_gbps", "latency_us", "regime", "nic_bandwidth_gbps", "nics_per_node"}) {
    profile.sources[level + "." + key] = source;
  }
  if (one_node) profile.sources["node.gpus_per_node"] = source;
  profile.allreduce_algorithm_mask = 1u << static_cast<unsigned>(0);  // ring
  profile.sources["collectives"] =
      "calibrated: the fitted allreduce is expressed through the ring formula, so ring is the algorithm (" + source +
      ")";
}

}  // namespace bitscale
