// Flows sharing links max-min fairly (progressive filling, Bertsekas & Gallager, Data Networks, 6.5.2): every
// flow's rate grows at the same pace until a link on its path is full; flows crossing a full link keep the rate
// they reached, the others go on growing. The result is the max-min fair allocation: no flow can get more
// without taking from one that has no more than it.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace bitscale {

// Paths of flows, stored flat: flow f crosses links[offsets[f] .. offsets[f+1]).
struct FlowSet {
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> links;
  std::vector<double> bytes;  // what each flow carries (a fraction of the collective's buffer)

  std::size_t size() const { return bytes.size(); }
  // Ends the flow whose links were appended to `links` since the last call.
  void close(double flow_bytes) {
    offsets.push_back(static_cast<std::int64_t>(links.size()));
    bytes.push_back(flow_bytes);
  }
  void clear() {
    offsets.assign(1, 0);
    links.clear();
    bytes.clear();
  }
};

// The max-min fair rate (bytes/s) of every flow over links of the given capacities (bytes/s). A flow with no
// links (source = destination) gets +infinity.
std::vector<double> max_min_rates(std::span<const double> capacity, const FlowSet& flows);

// The time until the last flow of the set has carried its bytes at its max-min rate, as if all start together.
double completion_seconds(std::span<const double> capacity, const FlowSet& flows);

}  // namespace bitscale
