// Collective algorithms expanded into flows on the topology graph (model/topology.hpp). Each algorithm is a
// sequence of steps; in a step every rank sends its share of the buffer to a partner at the same time, the
// flows share links max-min fairly (model/flows.hpp), and the step lasts until its slowest flow is done. The
// time of a collective of n bytes is then
//     T(n) = latency + n * sum over steps of max over flows (fraction of n carried / max-min rate)
// where the latency term is the closed form's (model/collectives.hpp: the profile's calibrated per-step
// latencies) and the bandwidth term comes from the graph: link sharing, NIC counts, rails and oversubscribed
// leaf uplinks decide it. The flows of each algorithm:
//   ring             C channels (C = GPUs per node across nodes, as NCCL's rings, one per NIC; 1 in a node), each
//                    a ring over all ranks entering and leaving every node at a different GPU; 2(p-1) steps in
//                    which each rank passes n/(C p) to its successor
//   tree             two complementary binary trees over nodes (NCCL's double binary tree), a chain inside each
//                    node; each tree pipelines n/2 up (reduce) and down (broadcast)
//   halving-doubling log2 p reduce-scatter steps with partners at distance 1, 2, 4, ... (node-local first), each
//                    sending the half still owed (n/2, n/4, ...), mirrored by the allgather; ranks beyond the
//                    largest power of two fold in and out first (2 steps of n)
//   hierarchical     ring reduce-scatter in each node (g-1 steps of n/g), g rings across nodes (one per local
//                    GPU and its NIC) allreducing n/g, ring allgather in each node
//   gather           ring allgather of every rank's w bytes on C channels (p-1 steps of w/C): T is per w
// Past 131,072 ranks the flows are solved on 131,072 (the same per-node and per-leaf structure; link loads repeat
// leaf by leaf) and the bandwidth term scaled by the step count: (p-1)/p for ring, p-1 for gather, 1 otherwise.
#pragma once
#include <cstdint>
#include <vector>

#include "model/cluster.hpp"
#include "model/collectives.hpp"
#include "model/topology.hpp"

namespace bitscale {

// Seconds per byte of the bandwidth term of algorithm `a` on `t` at these per-GPU link rates (for gather, per
// byte of each rank's contribution).
double flow_seconds_per_byte(const Topology& t, Algorithm a, double intra_bytes_per_s,
                             double network_bytes_per_s_per_gpu);

// The time of an allreduce of `bytes` (or a gather-based reduction of `bytes` per rank) on the cluster's
// topology with `f.ranks` ranks, at the links' regime for that size. Results of the flow computation are cached
// (by topology shape, ranks, algorithm and link rates), so a sweep pays for each shape once; thread-safe.
double topology_collective_seconds(const ClusterProfile& c, const Fabric& f, double bytes, Algorithm a);

// The fastest allreduce among those the cluster's library runs, by the topology model.
CollectiveTime topology_best_allreduce(const ClusterProfile& c, const Fabric& f, double bytes);

// The same for many collectives on one fabric (the buckets of a step): the flow results are looked up once per
// algorithm and link regime, then each collective costs a few multiplications.
class FlowCosts {
 public:
  FlowCosts(const ClusterProfile& c, const Fabric& f) : c_(c), f_(f) {}
  double seconds(double bytes, Algorithm a);
  CollectiveTime best_allreduce(double bytes);

 private:
  struct Entry {
    double intra = 0, inter = 0;
    Algorithm algorithm = Algorithm::ring;
    double seconds_per_byte = 0;
  };
  const ClusterProfile& c_;
  Fabric f_;
  std::vector<Entry> memo_;
};

}  // namespace bitscale
