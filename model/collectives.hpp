// Collectives under the alpha-beta (Hockney) model, T(n) = alpha + n/B per message, on a two-level fabric:
// p = nodes x g ranks, intra-node links (alpha_i, B_i per GPU) and the network (alpha_e; B_e per GPU, the
// node's NIC bandwidth shared by its g GPUs). Byte counts n are the whole buffer, as nccl-tests' "size".
//
// A flat ring spanning nodes runs g rings (one per NIC, as NCCL's channels), so its bottleneck per-rank rate
// is B_ring = min(B_i, g*B_e); inside one node B_ring = B_i. Of a ring pass's p-1 steps, N-1 cross nodes:
// its latency is L = (p-N) alpha_i + (N-1) alpha_e (as NCCL's own tuning model, src/graph/tuning.cc).
//   ring allreduce         2 L + 2(p-1)/p n / B_ring                          (nccl-tests doc/PERFORMANCE.md)
//   ring reduce-scatter      L +  (p-1)/p n / B_ring                          (allgather likewise; n = output)
//   double binary tree     2((g-1) alpha_i + ceil(log2 N) alpha_e) + 2 n / B_ring     (NCCL trees: chain in the
//                          node, binary trees across nodes; each rank sends and receives about n per phase)
//   halving-doubling       2 (log2(g) alpha_i + log2(N) alpha_e) + 2(g-1)/g n/B_i + 2(N-1)/N n/(g B_e)
//                          (Rabenseifner, Thakur et al. 2005, node-local partners first); p not a power of two
//                          adds 2 (alpha + n/B) for folding the extra ranks in and out
//   hierarchical           2((g-1) alpha_i + (g-1)/g n/B_i) + ring allreduce of n/g over N nodes at (alpha_e, B_e)
//   gather (non-summable)  ring allgather of every rank's compressed buffer: L + (p-1) w / B_ring
//   broadcast              pipelined chain L + n/B_ring, or binomial tree: ceil(log2 N) steps of (alpha_e + n/B_e)
//                          and ceil(log2 p) - ceil(log2 N) steps of (alpha_i + n/B_i); the faster one
//   alltoall               (g-1) alpha_i + (p-g) alpha_e + max((g-1)/p n/B_i, (p-g)/p n/B_e)
// Bus bandwidth as nccl-tests: busbw = algbw x 2(p-1)/p (allreduce), (p-1)/p (allgather, reduce-scatter,
// alltoall), 1 (broadcast).
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "model/cluster.hpp"

namespace bitscale {

enum class CollectiveOp { allreduce, allgather, reduce_scatter, broadcast, alltoall };
enum class Algorithm { ring, tree, halving_doubling, hierarchical, gather, chain, binomial };

std::string_view name(CollectiveOp op);
std::string_view name(Algorithm a);
CollectiveOp parse_collective_op(std::string_view text, std::string_view field = "--op");
Algorithm parse_algorithm(std::string_view text, std::string_view field = "--algorithm");

// The fabric that p ranks of a cluster see.
struct Fabric {
  std::int64_t ranks = 1, nodes = 1, ranks_per_node = 1;
  double alpha_intra_s = 0, alpha_inter_s = 0;
  double intra_bytes_per_s = 0;          // per GPU
  double inter_bytes_per_s_per_gpu = 0;  // the node's NIC bandwidth / GPUs per node
  std::uint32_t allreduce_mask = 0xF;    // algorithms the library runs (bit = Algorithm value)
  std::span<const LinkRegime> intra_regimes, inter_regimes;  // the profile's, when it has piecewise links
  // The fabric seen by a collective of `bytes`: the links' regime for that size.
  Fabric at(double bytes) const;
  // latency L of one ring pass: p-N node-local steps and N-1 steps across nodes
  double ring_latency_s() const {
    return static_cast<double>(ranks - nodes) * alpha_intra_s + static_cast<double>(nodes - 1) * alpha_inter_s;
  }
  double ring_bytes_per_s() const;
};

// Ranks fill nodes of gpus_per_node; more than one node needs a whole number of nodes (InputError otherwise).
Fabric make_fabric(const ClusterProfile& cluster, std::int64_t ranks);

struct CollectiveTime {
  double seconds = 0;
  Algorithm algorithm = Algorithm::ring;
};

double allreduce_seconds(const Fabric& f, double bytes, Algorithm a);
double ring_allgather_seconds(const Fabric& f, double total_bytes);      // (p-1)/p of total received
double ring_reduce_scatter_seconds(const Fabric& f, double total_bytes);
double broadcast_seconds(const Fabric& f, double bytes, Algorithm a);    // chain or binomial
double alltoall_seconds(const Fabric& f, double bytes);

// The summable allreduce algorithms, in the order the fastest is searched.
std::span<const Algorithm> allreduce_algorithms();
// Fastest allreduce among those the cluster's library runs (NCCL too picks its lowest predicted time).
CollectiveTime best_allreduce(const Fabric& f, double bytes);
// Gather-based reduction of non-summable payloads: every rank receives the other ranks' `wire_bytes`.
CollectiveTime gather_reduce(const Fabric& f, double wire_bytes);

// One collective as the `collective` command reports it; `algorithm` forced when given.
struct CollectiveResult {
  double seconds = 0, algbw_gbyte_per_s = 0, busbw_gbyte_per_s = 0;
  Algorithm algorithm = Algorithm::ring;
};
double bus_factor(CollectiveOp op, std::int64_t ranks);
// `wire_bytes` is what moves; algbw and busbw are of `bytes`, the buffer's size (nccl-tests' "size").
CollectiveResult run_collective(const Fabric& f, CollectiveOp op, double bytes, double wire_bytes, bool summable,
                                const Algorithm* forced);

}  // namespace bitscale
