// The topology graph, max-min fair sharing and the collectives' flows against results worked out by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "model/collectives.hpp"
#include "model/flows.hpp"
#include "model/topology.hpp"
#include "model/topology_collectives.hpp"

namespace bitscale {
namespace {

// A cluster with round numbers: g GPUs per node at 1e11 B/s each inside the node, `nics` NICs per node,
// network 1e10 B/s per GPU (80 Gbit/s), no latency.
ClusterProfile toy(std::int64_t g, std::int64_t nics, const std::string& topology = "fat-tree",
                   std::int64_t nodes_per_leaf = 32, double oversubscription = 1.0) {
  ClusterProfile c;
  c.name = "toy";
  c.gpus_per_node = g;
  c.intra_node_gbps = 800;
  c.nics_per_node = nics;
  c.nic_gbps = 80.0 * static_cast<double>(g) / static_cast<double>(nics);
  c.network_topology = topology;
  c.nodes_per_leaf = nodes_per_leaf;
  c.oversubscription = oversubscription;
  c.allreduce_algorithm_mask = 0xF;
  return c;
}

constexpr double kIntra = 1e11, kNet = 1e10;

TEST(Topology, CountsVerticesAndLinksOfARailOptimizedCluster) {
  // dgx-a100 shape, 8 nodes of 8 GPUs and 8 NICs: per node 1 switch + 8 GPUs + 8 NICs; 8 rail leaves and a core
  const Topology t(toy(8, 8, "rail-optimized", 20), 64);
  EXPECT_EQ(t.nodes(), 8);
  EXPECT_EQ(t.leaves(), 8);
  EXPECT_EQ(boost::num_vertices(t.graph()), 8u * 17 + 8 + 1);
  // both directions of: GPU-switch, GPU-NIC, NIC-leaf (8 each per node), leaf-core (8)
  EXPECT_EQ(boost::num_edges(t.graph()), 2u * (8 * 24 + 8));
  EXPECT_EQ(t.links(), boost::num_edges(t.graph()));
}

TEST(Topology, RoutesAreTheGraphsShortestPaths) {
  std::mt19937 rng(5);
  for (const auto& c : {toy(8, 8, "rail-optimized", 2), toy(8, 2, "fat-tree", 3), toy(4, 1, "fat-tree", 1)}) {
    const Topology t(c, c.gpus_per_node * 7);
    std::uniform_int_distribution<std::int64_t> rank(0, t.ranks() - 1);
    for (int i = 0; i < 200; ++i) {
      const auto a = rank(rng), b = rank(rng);
      std::vector<std::int32_t> path;
      t.route(a, b, path);
      EXPECT_EQ(path.size(), t.search_route(a, b).size()) << c.network_topology << " " << a << " -> " << b;
      // the edges chain from a's vertex to b's
      auto at = t.gpu_vertex(a);
      for (auto id : path) {
        bool found = false;
        for (auto [e, end] = boost::out_edges(at, t.graph()); e != end; ++e) {
          if (t.graph()[*e].id == id) {
            at = boost::target(*e, t.graph());
            found = true;
            break;
          }
        }
        ASSERT_TRUE(found) << "link " << id << " does not leave vertex " << at;
      }
      EXPECT_EQ(at, t.gpu_vertex(b));
    }
  }
}

TEST(Flows, MaxMinFairSharingByHand) {
  // link 0 (10 B/s): flows 0 and 1; link 1 (4 B/s): flows 1 and 2. Link 1 fills first at 2 each; flow 0 then
  // takes the rest of link 0: 10 - 2 = 8.
  FlowSet fs;
  fs.links = {0};
  fs.close(1);
  fs.links.insert(fs.links.end(), {0, 1});
  fs.close(1);
  fs.links.push_back(1);
  fs.close(1);
  const std::vector<double> cap = {10, 4};
  const auto r = max_min_rates(cap, fs);
  EXPECT_DOUBLE_EQ(r[0], 8);
  EXPECT_DOUBLE_EQ(r[1], 2);
  EXPECT_DOUBLE_EQ(r[2], 2);
  EXPECT_DOUBLE_EQ(completion_seconds(cap, fs), 0.5);
}

TEST(TopologyCollectives, RingInOneNodeIsTheClosedForm) {
  for (std::int64_t p : {2, 3, 5, 8}) {
    const Topology t(toy(8, 8), p);
    const double expected = 2.0 * static_cast<double>(p - 1) / static_cast<double>(p) / kIntra;
    EXPECT_NEAR(flow_seconds_per_byte(t, Algorithm::ring, kIntra, kNet), expected, 1e-9 * expected) << p;
  }
}

TEST(TopologyCollectives, RingAcrossNodesThroughOneNicByHand) {
  // 2 nodes x 4 GPUs, one NIC per node (4e10 B/s). 4 channels: each node's NIC carries 4 flows of n/32 per step,
  // 1e10 B/s each; 14 steps: 14 n / 32 / 1e10 = 0.4375 n / 1e10, as the closed form 2(p-1)/p n / (g B_e).
  const Topology t(toy(4, 1), 8);
  EXPECT_NEAR(flow_seconds_per_byte(t, Algorithm::ring, 1e15, kNet), 0.4375 / kNet, 1e-12 / kNet);
}

TEST(TopologyCollectives, OversubscribedUplinksSlowCrossLeafTraffic) {
  // one node per leaf: every inter-node flow climbs to the core; 4:1 oversubscription makes the network four
  // times slower when it is the bottleneck
  const Topology full(toy(4, 1, "fat-tree", 1, 1.0), 16);
  const Topology over(toy(4, 1, "fat-tree", 1, 4.0), 16);
  for (auto a : {Algorithm::ring, Algorithm::hierarchical}) {
    const double f = flow_seconds_per_byte(full, a, 1e15, kNet), o = flow_seconds_per_byte(over, a, 1e15, kNet);
    EXPECT_NEAR(o / f, 4.0, 1e-3) << name(a);  // the node-local steps of hierarchical add a trace
  }
}

TEST(TopologyCollectives, HierarchicalBeatsFlatRingWhenTheNetworkIsTheBottleneck) {
  // 2 nodes x 8 GPUs behind one NIC each: a flat ring's NIC carries 2(p-1)/p n = 1.875 n, the hierarchical
  // allreduce's 2(N-1)/N n = n
  // allreduce's 2(N-1)/N n = n, plus its node-local reduce-scatter and allgather, 2 (g-1)/g n / B_i, which the
  // ring pipelines away (here B_i = 100 B_e)
  const Topology t(toy(8, 1), 16);
  const double intra = 100 * kNet;
  const double ring = flow_seconds_per_byte(t, Algorithm::ring, intra, kNet);
  const double hier = flow_seconds_per_byte(t, Algorithm::hierarchical, intra, kNet);
  EXPECT_LT(hier, ring);
  EXPECT_NEAR(ring, 1.875 / (8 * kNet), 1e-9 * ring);
  EXPECT_NEAR(hier, 1.0 / (8 * kNet) + 2.0 * 7 / 8 / intra, 1e-9 * hier);
  // with the links inside the node only 10x the network's, the ring wins: the choice depends on the graph
  EXPECT_GT(flow_seconds_per_byte(t, Algorithm::hierarchical, 10 * kNet, kNet),
            flow_seconds_per_byte(t, Algorithm::ring, 10 * kNet, kNet));
}

TEST(TopologyCollectives, GatherCrossoverMatchesTheClosedForm) {
  // one node of p GPUs, no latency: gathering w = e (1 + 4/256) bytes of int8-block per rank against a ring
  // allreduce of 2e bytes of fp16. Closed form: (p-1) w / B against 2 (p-1)/p 2e / B, so gather wins while
  // p < 4 / (1 + 1/64) = 3.94: at p = 2 and 3, and loses from p = 4 on.
  ClusterProfile c = toy(8, 8);
  c.intra_node_latency_us = 0;
  const double e = 1 << 20, w = e * (1 + 4.0 / 256);
  for (std::int64_t p = 2; p <= 8; ++p) {
    const Fabric f = make_fabric(c, p);
    const double gather = topology_collective_seconds(c, f, w, Algorithm::gather);
    const double ring = topology_collective_seconds(c, f, 2 * e, Algorithm::ring);
    const double closed = static_cast<double>(p - 1) * w - 2.0 * static_cast<double>(p - 1) / static_cast<double>(p) * 2 * e;
    EXPECT_EQ(gather < ring, closed < 0) << p;
    EXPECT_NEAR(gather - ring, closed / kIntra, 1e-9 * gather) << p;
  }
}

TEST(TopologyCollectives, TreeAndHalvingDoublingInOneNodeByHand) {
  const Topology t(toy(8, 8), 8);
  // double binary tree in a node: two chains of n/2 each way, 2 flows per GPU port: 2 n / B
  EXPECT_NEAR(flow_seconds_per_byte(t, Algorithm::tree, kIntra, kNet), 2.0 / kIntra, 1e-9 / kIntra);
  // halving-doubling: 2 (1/2 + 1/4 + 1/8) n / B = 1.75 n / B
  EXPECT_NEAR(flow_seconds_per_byte(t, Algorithm::halving_doubling, kIntra, kNet), 1.75 / kIntra, 1e-9 / kIntra);
}

}  // namespace
}  // namespace bitscale
