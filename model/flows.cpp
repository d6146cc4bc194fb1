#include "model/flows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/input_error.hpp"

namespace bitscale {

std::vector<double> max_min_rates(std::span<const double> capacity, const FlowSet& flows) {
  const std::size_t nf = flows.size();
  const std::size_t nl = capacity.size();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (double c : capacity) BITSCALE_CHECK(std::isfinite(c) && c > 0) << "link capacity " << c;
  std::vector<double> rate(nf, kInf);
  // flows per link, as a flat index (links -> flows)
  std::vector<std::int64_t> count(nl + 1, 0);
  for (auto l : flows.links) {
    BITSCALE_CHECK(l >= 0 && static_cast<std::size_t>(l) < nl) << "link " << l << " of " << nl;
    ++count[static_cast<std::size_t>(l) + 1];
  }
  for (std::size_t l = 0; l < nl; ++l) count[l + 1] += count[l];
  std::vector<std::int64_t> fill(count.begin(), count.end() - 1);
  std::vector<std::int32_t> link_flows(flows.links.size());
  for (std::size_t f = 0; f < nf; ++f) {
    for (auto i = flows.offsets[f]; i < flows.offsets[f + 1]; ++i) {
      link_flows[static_cast<std::size_t>(fill[static_cast<std::size_t>(flows.links[static_cast<std::size_t>(i)])]++)] =
          static_cast<std::int32_t>(f);
    }
  }
  std::vector<double> remaining(capacity.begin(), capacity.end());
  std::vector<std::int64_t> active(nl);
  std::vector<std::int32_t> used;  // links with at least one unfrozen flow
  for (std::size_t l = 0; l < nl; ++l) {
    active[l] = count[l + 1] - count[l];
    if (active[l] > 0) used.push_back(static_cast<std::int32_t>(l));
  }
  std::vector<bool> frozen(nf, false);
  std::size_t left = 0;
  for (std::size_t f = 0; f < nf; ++f) {
    if (flows.offsets[f + 1] > flows.offsets[f]) ++left;
  }
  double level = 0;
  while (left > 0) {
    double share = kInf;
    for (auto l : used) share = std::min(share, remaining[static_cast<std::size_t>(l)] / static_cast<double>(active[static_cast<std::size_t>(l)]));
    BITSCALE_CHECK(share < kInf) << "flows left without links";
    level += share;
    std::vector<std::int32_t> full;
    for (auto l : used) {
      const auto ul = static_cast<std::size_t>(l);
      remaining[ul] -= share * static_cast<double>(active[ul]);
      if (remaining[ul] <= 1e-9 * capacity[ul]) full.push_back(l);
    }
    for (auto l : full) {
      const auto ul = static_cast<std::size_t>(l);
      for (auto i = count[ul]; i < count[ul + 1]; ++i) {
        const auto f = static_cast<std::size_t>(link_flows[static_cast<std::size_t>(i)]);
        if (frozen[f]) continue;
        frozen[f] = true;
        rate[f] = level;
        --left;
        for (auto j = flows.offsets[f]; j < flows.offsets[f + 1]; ++j) --active[static_cast<std::size_t>(flows.links[static_cast<std::size_t>(j)])];
      }
    }
    used.erase(std::remove_if(used.begin(), used.end(), [&](std::int32_t l) { return active[static_cast<std::size_t>(l)] == 0; }),
               used.end());
  }
  return rate;
}

double completion_seconds(std::span<const double> capacity, const FlowSet& flows) {
  const auto rate = max_min_rates(capacity, flows);
  double t = 0;
  for (std::size_t f = 0; f < flows.size(); ++f) {
    if (flows.bytes[f] > 0) t = std::max(t, flows.bytes[f] / rate[f]);
  }
  return t;
}

}  // namespace bitscale
