#include "model/topology_collectives.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <future>
#include <tuple>

#include "kernels/input_error.hpp"
#include "model/flows.hpp"

namespace bitscale {

namespace {

constexpr std::int64_t kMaxChannels = 32;  // NCCL's MAXCHANNELS

// Sum over steps of count x max over flows (fraction / rate); flows of one step in `fs`.
class StepSum {
 public:
  StepSum(const Topology& t, std::vector<double> capacity) : t_(t), capacity_(std::move(capacity)) {}
  void flow(std::int64_t a, std::int64_t b, double fraction) {
    if (a == b) return;
    t_.route(a, b, fs_.links);
    fs_.close(fraction);
  }
  void end_step(double count) {
    if (fs_.size() > 0 && count > 0) total_ += count * completion_seconds(capacity_, fs_);
    fs_.clear();
  }
  double total() const { return total_; }

 private:
  const Topology& t_;
  std::vector<double> capacity_;
  FlowSet fs_;
  double total_ = 0;
};

// rank at position q of ring channel c: nodes in order, the GPUs of each node rotated by c * g / channels
std::int64_t ring_rank(std::int64_t q, std::int64_t c, std::int64_t channels, std::int64_t g) {
  const std::int64_t node = q / g, j = q % g;
  return node * g + (j + c * g / channels) % g;
}

void ring_step(StepSum& s, const Topology& t, std::int64_t channels, double fraction) {
  const std::int64_t p = t.ranks(), g = t.gpus_per_node();
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t q = 0; q < p; ++q) s.flow(ring_rank(q, c, channels, g), ring_rank((q + 1) % p, c, channels, g), fraction);
  }
}

}  // namespace

double flow_seconds_per_byte(const Topology& t, Algorithm a, double intra_bps, double network_bps) {
  const std::int64_t p = t.ranks(), g = t.gpus_per_node(), nodes = t.nodes();
  if (p == 1) return 0;
  StepSum s(t, t.capacities(intra_bps, network_bps));
  const auto dp = static_cast<double>(p);
  const std::int64_t channels = nodes > 1 ? std::min<std::int64_t>(g, kMaxChannels) : 1;
  switch (a) {
    case Algorithm::ring:
      ring_step(s, t, channels, 1.0 / (static_cast<double>(channels) * dp));
      s.end_step(2.0 * (dp - 1));
      break;
    case Algorithm::gather:
      ring_step(s, t, channels, 1.0 / static_cast<double>(channels));
      s.end_step(dp - 1);
      break;
    case Algorithm::tree: {
      for (std::int64_t tree = 0; tree < 2; ++tree) {
        const std::int64_t head = (tree * g / 2) % g;
        for (std::int64_t k = 0; k < nodes; ++k) {
          // chain toward the head: position i+1 sends to position i
          for (std::int64_t i = 0; i + 1 < g; ++i) {
            s.flow(k * g + (head + i + 1) % g, k * g + (head + i) % g, 0.5);
          }
          if (k == 0 && tree == 0) continue;
          if (tree == 0) {
            s.flow(k * g + head, (k - 1) / 2 * g + head, 0.5);
          } else {
            const std::int64_t m = nodes - 1 - k;  // the mirrored tree
            if (m == 0) continue;
            s.flow(k * g + head, (nodes - 1 - (m - 1) / 2) * g + head, 0.5);
          }
        }
      }
      s.end_step(2.0);  // reduce up, broadcast down: the same links in reverse
      break;
    }
    case Algorithm::halving_doubling: {
      std::int64_t p2 = 1;
      while (p2 * 2 <= p) p2 *= 2;
      if (p2 < p) {
        for (std::int64_t r = p2; r < p; ++r) s.flow(r, r - p2, 1.0);
        s.end_step(2.0);
      }
      double fraction = 0.5;
      for (std::int64_t d = 1; d < p2; d *= 2, fraction /= 2) {
        for (std::int64_t r = 0; r < p2; ++r) s.flow(r, r ^ d, fraction);
        s.end_step(2.0);
      }
      break;
    }
    case Algorithm::hierarchical: {
      const auto dg = static_cast<double>(g), dn = static_cast<double>(nodes);
      if (g > 1) {
        for (std::int64_t k = 0; k < nodes; ++k) {
          for (std::int64_t j = 0; j < g; ++j) s.flow(k * g + j, k * g + (j + 1) % g, 1.0 / dg);
        }
        s.end_step(2.0 * (dg - 1));
      }
      if (nodes > 1) {
        for (std::int64_t j = 0; j < g; ++j) {
          for (std::int64_t k = 0; k < nodes; ++k) s.flow(k * g + j, (k + 1) % nodes * g + j, 1.0 / (dg * dn));
        }
        s.end_step(2.0 * (dn - 1));
      }
      break;
    }
    default:
      BITSCALE_CHECK(false) << "no flow expansion for " << name(a);
  }
  return s.total();
}

namespace {

using ShapeKey = std::tuple<std::int64_t, std::int64_t, std::int64_t, bool, double, std::int64_t>;
using CostKey = std::tuple<ShapeKey, int, double, double>;

struct Cache {
  std::mutex mutex;
  // one entry per key, computed by the first thread that asks; the others wait for its result
  std::map<CostKey, std::shared_future<double>> seconds_per_byte;
  std::map<ShapeKey, std::shared_ptr<const Topology>> topologies;
};

Cache& cache() {
  static Cache c;
  return c;
}

// Past this many ranks the flows are solved on a cluster of kMaxFlowRanks ranks (the same nodes, leaves and
// rails, fewer of them: link loads repeat leaf by leaf) and the result scaled by the algorithm's step count.
constexpr std::int64_t kMaxFlowRanks = 131072;

double step_count_scale(Algorithm a, std::int64_t p, std::int64_t reduced) {
  const auto dp = static_cast<double>(p), dr = static_cast<double>(reduced);
  switch (a) {
    case Algorithm::ring: return ((dp - 1) / dp) / ((dr - 1) / dr);
    case Algorithm::gather: return (dp - 1) / (dr - 1);
    default: return 1.0;  // tree: n/2 each way whatever p; halving-doubling, hierarchical: within 1/reduced
  }
}

double cached_seconds_per_byte(const ClusterProfile& c, const Fabric& f_in, Algorithm a) {
  Fabric f = f_in;
  double scale = 1.0;
  if (f.ranks > kMaxFlowRanks) {
    const bool pow2 = (f.ranks & (f.ranks - 1)) == 0;
    std::int64_t reduced = kMaxFlowRanks - (pow2 ? 0 : f.ranks_per_node);  // keep the fold step of a non-power
    reduced -= reduced % f.ranks_per_node;
    scale = step_count_scale(a, f.ranks, reduced);
    f.ranks = reduced;
    f.nodes = reduced / f.ranks_per_node;
  }
  const ShapeKey shape{c.gpus_per_node, c.nics_per_node, c.nodes_per_leaf, c.network_topology == "rail-optimized",
                       c.oversubscription, f.ranks};
  // link capacities are linear in the two per-GPU rates and max-min fair shares are homogeneous in the
  // capacities, so the flows are solved once per ratio of the rates, at an intra-node rate of 1 byte/s, and
  // scaled: rates that differ only by a common factor (the draws of an interval, predictors/uncertainty.hpp)
  // reuse one solution
  const double unit = f.intra_bytes_per_s > 0 ? f.intra_bytes_per_s : 1.0;
  scale /= unit;
  const double intra = f.intra_bytes_per_s / unit, inter = f.inter_bytes_per_s_per_gpu / unit;
  const CostKey key{shape, static_cast<int>(a), intra, inter};
  auto& k = cache();
  std::promise<double> promise;
  std::shared_ptr<const Topology> topo;
  {
    std::unique_lock lock(k.mutex);
    if (auto it = k.seconds_per_byte.find(key); it != k.seconds_per_byte.end()) {
      auto result = it->second;
      lock.unlock();
      return scale * result.get();
    }
    k.seconds_per_byte.emplace(key, promise.get_future().share());
    if (auto it = k.topologies.find(shape); it != k.topologies.end()) topo = it->second;
  }
  try {
    if (!topo) topo = std::make_shared<const Topology>(c, f.ranks);
    const double spb = flow_seconds_per_byte(*topo, a, intra, inter);
    {
      std::lock_guard lock(k.mutex);
      if (k.topologies.size() > 64) k.topologies.clear();  // graphs are large; flow results are small
      k.topologies.emplace(shape, topo);
    }
    promise.set_value(spb);
    return scale * spb;
  } catch (...) {
    {
      std::lock_guard lock(k.mutex);
      k.seconds_per_byte.erase(key);  // a later call tries again
    }
    promise.set_exception(std::current_exception());
    throw;
  }
}

}  // namespace

double topology_collective_seconds(const ClusterProfile& c, const Fabric& f, double bytes, Algorithm a) {
  return FlowCosts(c, f).seconds(bytes, a);
}

CollectiveTime topology_best_allreduce(const ClusterProfile& c, const Fabric& f, double bytes) {
  return FlowCosts(c, f).best_allreduce(bytes);
}

}  // namespace bitscale

namespace bitscale {

double FlowCosts::seconds(double bytes, Algorithm a) {
  if (f_.ranks == 1) return 0;
  const Fabric f = f_.at(a == Algorithm::gather ? bytes * static_cast<double>(f_.ranks) : bytes);
  const double latency = a == Algorithm::gather ? ring_allgather_seconds(f, 0) : allreduce_seconds(f, 0, a);
  for (const auto& e : memo_) {
    if (e.algorithm == a && e.intra == f.intra_bytes_per_s && e.inter == f.inter_bytes_per_s_per_gpu) {
      return latency + bytes * e.seconds_per_byte;
    }
  }
  const double spb = cached_seconds_per_byte(c_, f, a);
  memo_.push_back({f.intra_bytes_per_s, f.inter_bytes_per_s_per_gpu, a, spb});
  return latency + bytes * spb;
}

CollectiveTime FlowCosts::best_allreduce(double bytes) {
  CollectiveTime best{0, Algorithm::ring};
  bool found = false;
  for (auto a : allreduce_algorithms()) {
    if ((f_.allreduce_mask & (1u << static_cast<unsigned>(a))) == 0) continue;
    const double t = seconds(bytes, a);
    if (!found || t < best.seconds) best = {t, a};
    found = true;
  }
  BITSCALE_CHECK(found) << "no allreduce algorithm allowed";
  return best;
}

}  // namespace bitscale
