#include "model/collectives.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

constexpr std::array<std::string_view, 5> kOpNames = {"allreduce", "allgather", "reduce-scatter", "broadcast",
                                                      "alltoall"};
constexpr std::array<std::string_view, 7> kAlgorithmNames = {"ring",   "tree",  "halving-doubling", "hierarchical",
                                                             "gather", "chain", "binomial"};
constexpr Algorithm kAllreduceAlgorithms[] = {Algorithm::ring, Algorithm::tree, Algorithm::halving_doubling,
                                              Algorithm::hierarchical};

template <std::size_t N>
std::size_t parse_name(std::string_view text, std::string_view field, const std::array<std::string_view, N>& names) {
  std::string valid;
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return i;
    valid += (i ? ", " : "") + std::string(names[i]);
  }
  throw InputError("", std::string(field), std::string(text), "unknown name; valid: " + valid);
}

// floor(log2 x) and ceil(log2 x) for x >= 1
double floor_log2(std::int64_t x) { return std::floor(std::log2(static_cast<double>(x))); }
double ceil_log2(std::int64_t x) { return std::ceil(std::log2(static_cast<double>(x))); }
bool is_power_of_two(std::int64_t x) { return x > 0 && (x & (x - 1)) == 0; }

// ring allreduce on one level: 2(p-1) alpha + 2(p-1)/p n/B
double ring_allreduce(double p, double alpha, double bytes_per_s, double n) {
  return 2.0 * (p - 1) * alpha + 2.0 * (p - 1) / p * n / bytes_per_s;
}

}  // namespace

std::string_view name(CollectiveOp op) { return kOpNames[static_cast<std::size_t>(op)]; }
std::string_view name(Algorithm a) { return kAlgorithmNames[static_cast<std::size_t>(a)]; }
CollectiveOp parse_collective_op(std::string_view text, std::string_view field) {
  return static_cast<CollectiveOp>(parse_name(text, field, kOpNames));
}
Algorithm parse_algorithm(std::string_view text, std::string_view field) {
  return static_cast<Algorithm>(parse_name(text, field, kAlgorithmNames));
}

Fabric Fabric::at(double bytes) const {
  if (intra_regimes.empty() && inter_regimes.empty()) return *this;
  Fabric f = *this;
  auto pick = [&](std::span<const LinkRegime> regimes) -> const LinkRegime* {
    if (regimes.empty()) return nullptr;
    for (const auto& r : regimes) {
      if (bytes <= r.max_bytes) return &r;
    }
    return &regimes.back();
  };
  if (const auto* r = pick(intra_regimes)) {
    f.alpha_intra_s = r->latency_us * 1e-6;
    f.intra_bytes_per_s = r->bandwidth_gbps * 1e9 / 8;
  }
  if (const auto* r = pick(inter_regimes)) {
    f.alpha_inter_s = r->latency_us * 1e-6;
    f.inter_bytes_per_s_per_gpu = r->bandwidth_gbps * 1e9 / 8;
  }
  f.intra_regimes = {};
  f.inter_regimes = {};
  return f;
}

double Fabric::ring_bytes_per_s() const {
  if (nodes == 1) return intra_bytes_per_s;
  return std::min(intra_bytes_per_s, static_cast<double>(ranks_per_node) * inter_bytes_per_s_per_gpu);
}

Fabric make_fabric(const ClusterProfile& c, std::int64_t ranks) {
  if (ranks < 1) throw InputError("", "--gpus", std::to_string(ranks), "must be >= 1");
  if (ranks > c.gpus_per_node && ranks % c.gpus_per_node != 0) {
    throw InputError("", "--gpus", std::to_string(ranks),
                     fmt::format("must be <= {0} or a multiple of {0} (GPUs per node of {1})", c.gpus_per_node, c.name));
  }
  Fabric f;
  f.ranks = ranks;
  f.ranks_per_node = std::min(ranks, c.gpus_per_node);
  f.nodes = ranks / f.ranks_per_node;
  f.alpha_intra_s = c.intra_node_latency_us * 1e-6;
  f.alpha_inter_s = c.inter_node_latency_us * 1e-6;
  f.intra_bytes_per_s = c.intra_node_gbps * 1e9 / 8;
  f.inter_bytes_per_s_per_gpu = c.inter_node_gbps_per_gpu() * 1e9 / 8;
  f.allreduce_mask = c.allreduce_algorithm_mask;
  f.intra_regimes = c.intra_node_regimes;
  f.inter_regimes = c.inter_node_regimes;
  return f;
}

double allreduce_seconds(const Fabric& fabric, double n, Algorithm a) {
  const Fabric f = fabric.at(n);
  const auto p = static_cast<double>(f.ranks);
  if (f.ranks == 1) return 0;
  const auto g = static_cast<double>(f.ranks_per_node);
  const auto nodes = static_cast<double>(f.nodes);
  switch (a) {
    case Algorithm::ring:
      return 2.0 * f.ring_latency_s() + 2.0 * (p - 1) / p * n / f.ring_bytes_per_s();
    case Algorithm::tree:
      return 2.0 * ((g - 1) * f.alpha_intra_s + ceil_log2(f.nodes) * f.alpha_inter_s) + 2.0 * n / f.ring_bytes_per_s();
    case Algorithm::halving_doubling: {
      double t = 2.0 * (floor_log2(f.ranks_per_node) * f.alpha_intra_s + floor_log2(f.nodes) * f.alpha_inter_s) +
                 2.0 * (g - 1) / g * n / f.intra_bytes_per_s;
      if (f.nodes > 1) t += 2.0 * (nodes - 1) / nodes * n / (g * f.inter_bytes_per_s_per_gpu);
      if (!is_power_of_two(f.ranks)) {
        const bool inter = f.nodes > 1;
        t += 2.0 * ((inter ? f.alpha_inter_s : f.alpha_intra_s) +
                    n / (inter ? std::min(f.intra_bytes_per_s, f.inter_bytes_per_s_per_gpu) : f.intra_bytes_per_s));
      }
      return t;
    }
    case Algorithm::hierarchical: {
      const double intra = 2.0 * ((g - 1) * f.alpha_intra_s + (g - 1) / g * n / f.intra_bytes_per_s);
      if (f.nodes == 1) return intra;
      return intra + ring_allreduce(nodes, f.alpha_inter_s, f.inter_bytes_per_s_per_gpu, n / g);
    }
    default:
      BITSCALE_CHECK(false) << "not an allreduce algorithm: " << name(a);
  }
  return 0;
}

double ring_allgather_seconds(const Fabric& fabric, double total) {
  const Fabric f = fabric.at(total);
  const auto p = static_cast<double>(f.ranks);
  return f.ring_latency_s() + (p - 1) / p * total / f.ring_bytes_per_s();
}

double ring_reduce_scatter_seconds(const Fabric& f, double total) { return ring_allgather_seconds(f, total); }

double broadcast_seconds(const Fabric& fabric, double n, Algorithm a) {
  const Fabric f = fabric.at(n);
  if (f.ranks == 1) return 0;
  if (a == Algorithm::chain) return f.ring_latency_s() + n / f.ring_bytes_per_s();
  BITSCALE_CHECK(a == Algorithm::binomial) << "not a broadcast algorithm: " << name(a);
  const double inter_steps = ceil_log2(f.nodes);
  const double intra_steps = ceil_log2(f.ranks) - inter_steps;
  return inter_steps * (f.alpha_inter_s + n / f.inter_bytes_per_s_per_gpu) +
         intra_steps * (f.alpha_intra_s + n / f.intra_bytes_per_s);
}

double alltoall_seconds(const Fabric& fabric, double n) {
  const Fabric f = fabric.at(n);
  if (f.ranks == 1) return 0;
  const auto p = static_cast<double>(f.ranks);
  const auto g = static_cast<double>(f.ranks_per_node);
  double bw = (g - 1) / p * n / f.intra_bytes_per_s;
  if (f.nodes > 1) bw = std::max(bw, (p - g) / p * n / f.inter_bytes_per_s_per_gpu);
  return (g - 1) * f.alpha_intra_s + (p - g) * f.alpha_inter_s + bw;
}

std::span<const Algorithm> allreduce_algorithms() { return kAllreduceAlgorithms; }

CollectiveTime best_allreduce(const Fabric& f, double bytes) {
  CollectiveTime best{0, Algorithm::ring};
  bool found = false;
  for (auto a : kAllreduceAlgorithms) {
    if ((f.allreduce_mask & (1u << static_cast<unsigned>(a))) == 0) continue;
    const double t = allreduce_seconds(f, bytes, a);
    if (!found || t < best.seconds) best = {t, a};
    found = true;
  }
  BITSCALE_CHECK(found) << "no allreduce algorithm allowed";
  return best;
}

CollectiveTime gather_reduce(const Fabric& f, double wire_bytes) {
  return {ring_allgather_seconds(f, wire_bytes * static_cast<double>(f.ranks)), Algorithm::gather};
}

double bus_factor(CollectiveOp op, std::int64_t ranks) {
  const auto p = static_cast<double>(ranks);
  switch (op) {
    case CollectiveOp::allreduce: return 2.0 * (p - 1) / p;
    case CollectiveOp::broadcast: return 1.0;
    default: return (p - 1) / p;
  }
}

CollectiveResult run_collective(const Fabric& f, CollectiveOp op, double bytes, double wire_bytes, bool summable,
                                const Algorithm* forced) {
  CollectiveResult r;
  auto reject = [&](std::string_view rule) {
    throw InputError("", "--algorithm", std::string(name(*forced)), std::string(rule));
  };
  switch (op) {
    case CollectiveOp::allreduce:
      if (!summable || (forced != nullptr && *forced == Algorithm::gather)) {
        if (forced != nullptr && *forced != Algorithm::gather) {
          reject("this precision cannot be summed on the wire: only gather applies");
        }
        // every rank contributes `bytes`; each receives the other p-1 buffers
        const auto t = gather_reduce(f, wire_bytes);
        r.seconds = t.seconds;
        r.algorithm = t.algorithm;
      } else if (forced != nullptr) {
        if (std::find(std::begin(kAllreduceAlgorithms), std::end(kAllreduceAlgorithms), *forced) ==
            std::end(kAllreduceAlgorithms)) {
          reject("allreduce algorithms: ring, tree, halving-doubling, hierarchical, gather");
        }
        r.seconds = allreduce_seconds(f, wire_bytes, *forced);
        r.algorithm = *forced;
      } else {
        const auto t = best_allreduce(f, wire_bytes);
        r.seconds = t.seconds;
        r.algorithm = t.algorithm;
      }
      break;
    case CollectiveOp::allgather:
    case CollectiveOp::reduce_scatter:
      if (forced != nullptr && *forced != Algorithm::ring) reject("allgather and reduce-scatter use ring");
      r.seconds = ring_allgather_seconds(f, wire_bytes);
      r.algorithm = Algorithm::ring;
      break;
    case CollectiveOp::broadcast: {
      if (forced != nullptr && *forced != Algorithm::chain && *forced != Algorithm::binomial) {
        reject("broadcast algorithms: chain, binomial");
      }
      const double chain = broadcast_seconds(f, wire_bytes, Algorithm::chain);
      const double binomial = broadcast_seconds(f, wire_bytes, Algorithm::binomial);
      r.algorithm = forced != nullptr ? *forced : (binomial < chain ? Algorithm::binomial : Algorithm::chain);
      r.seconds = r.algorithm == Algorithm::chain ? chain : binomial;
      break;
    }
    case CollectiveOp::alltoall:
      if (forced != nullptr && *forced != Algorithm::ring) reject("alltoall uses direct pairwise exchange (ring)");
      r.seconds = alltoall_seconds(f, wire_bytes);
      r.algorithm = Algorithm::ring;
      break;
  }
  if (r.seconds > 0) {
    r.algbw_gbyte_per_s = bytes / r.seconds / 1e9;
    r.busbw_gbyte_per_s = r.algbw_gbyte_per_s * bus_factor(op, f.ranks);
  }
  return r;
}

}  // namespace bitscale
