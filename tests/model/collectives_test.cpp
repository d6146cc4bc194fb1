// Collective times under the alpha-beta model against values worked out by hand (collectives.hpp formulas).
// Test fabric: 4 GPUs per node; intra-node 800 Gb/s = 1e11 B/s per GPU, alpha_i = 1 us; one 400 Gb/s NIC per
// node = 12.5e9 B/s per GPU (50e9 B/s per node), alpha_e = 10 us. n = 1e8 bytes.
#include "model/collectives.hpp"

#include <gtest/gtest.h>

#include "kernels/input_error.hpp"

namespace bitscale {
namespace {

ClusterProfile test_cluster() {
  ClusterProfile c;
  c.name = "test";
  c.gpus_per_node = 4;
  c.intra_node_gbps = 800;
  c.intra_node_latency_us = 1;
  c.nics_per_node = 1;
  c.nic_gbps = 400;
  c.inter_node_latency_us = 10;
  return c;
}

constexpr double kN = 1e8;
constexpr double kUs = 1e-6, kMs = 1e-3;

TEST(Collectives, FabricLevels) {
  const auto f = make_fabric(test_cluster(), 8);
  EXPECT_EQ(f.nodes, 2);
  EXPECT_EQ(f.ranks_per_node, 4);
  EXPECT_DOUBLE_EQ(f.intra_bytes_per_s, 1e11);
  EXPECT_DOUBLE_EQ(f.inter_bytes_per_s_per_gpu, 12.5e9);
  EXPECT_DOUBLE_EQ(f.ring_bytes_per_s(), 50e9);  // min(1e11, 4 x 12.5e9)
  EXPECT_EQ(make_fabric(test_cluster(), 3).nodes, 1);
  EXPECT_THROW(make_fabric(test_cluster(), 6), InputError);  // not a whole number of 4-GPU nodes
  EXPECT_THROW(make_fabric(test_cluster(), 0), InputError);
}

TEST(Collectives, AllreduceInOneNodeByHand) {
  const auto f = make_fabric(test_cluster(), 4);
  // ring: 2*3*1us + 2*3/4 * 1e8/1e11 = 6 us + 1.5 ms
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::ring), 6 * kUs + 1.5 * kMs, 1e-12);
  // tree (chain in the node): 2*(3*1us) + 2 * 1e8/1e11 = 6 us + 2 ms
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::tree), 6 * kUs + 2 * kMs, 1e-12);
  // halving-doubling: 2*(2*1us) + 1.5 ms
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::halving_doubling), 4 * kUs + 1.5 * kMs, 1e-12);
  // hierarchical on one node is the intra-node reduce-scatter + allgather = ring
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::hierarchical), 6 * kUs + 1.5 * kMs, 1e-12);
  const auto best = best_allreduce(f, kN);
  EXPECT_EQ(best.algorithm, Algorithm::halving_doubling);
  EXPECT_EQ(allreduce_seconds(make_fabric(test_cluster(), 1), kN, Algorithm::ring), 0);
}

TEST(Collectives, AllreduceAcrossTwoNodesByHand) {
  const auto f = make_fabric(test_cluster(), 8);
  // ring: latency per pass (8-2)*1us + (2-1)*10us = 16 us; 2*16 us + 2*7/8 * 1e8/50e9 = 32 us + 3.5 ms
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::ring), 32 * kUs + 3.5 * kMs, 1e-12);
  // tree: 2*(3*1us + 1*10us) + 2 * 1e8/50e9 = 26 us + 4 ms
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::tree), 26 * kUs + 4 * kMs, 1e-12);
  // halving-doubling: 2*(2*1 + 1*10) us + 2*3/4*1e8/1e11 + 2*1/2*1e8/(4*12.5e9) = 24 us + 1.5 ms + 2 ms
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::halving_doubling), 24 * kUs + 3.5 * kMs, 1e-12);
  // hierarchical: 2*(3 us + 0.75 ms) + ring of 2.5e7 over 2 nodes: 2*10 us + 2*1/2*2.5e7/12.5e9 = 20 us + 2 ms
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::hierarchical), 6 * kUs + 1.5 * kMs + 20 * kUs + 2 * kMs, 1e-12);
}

TEST(Collectives, HalvingDoublingOnThreeNodesFoldsTheExtraRanks) {
  const auto f = make_fabric(test_cluster(), 12);
  // steps: 2*(floor(log2 4)*1 + floor(log2 3)*10) us = 24 us; bandwidth 2*3/4*1e8/1e11 = 1.5 ms and
  // 2*(2/3)*1e8/50e9 = 2.6667 ms; folding: 2*(10 us + 1e8/12.5e9) = 20 us + 16 ms
  const double expect = 24 * kUs + 1.5 * kMs + 2.0 * (2.0 / 3.0) * kN / 50e9 + 20 * kUs + 16 * kMs;
  EXPECT_NEAR(allreduce_seconds(f, kN, Algorithm::halving_doubling), expect, 1e-12);
}

TEST(Collectives, OtherOperationsByHand) {
  const auto f = make_fabric(test_cluster(), 8);
  // allgather / reduce-scatter of 1e8 in total: 16 us + 7/8*1e8/50e9 = 16 us + 1.75 ms
  EXPECT_NEAR(ring_allgather_seconds(f, kN), 16 * kUs + 1.75 * kMs, 1e-12);
  EXPECT_NEAR(ring_reduce_scatter_seconds(f, kN), 16 * kUs + 1.75 * kMs, 1e-12);
  // broadcast chain: 16 us + 1e8/50e9 = 2.016 ms; binomial: one step across nodes (10 us + 1e8/12.5e9 = 8.01 ms)
  // and two in the node (1 us + 1e8/1e11 = 1.001 ms each) = 10.012 ms
  EXPECT_NEAR(broadcast_seconds(f, kN, Algorithm::chain), 2.016 * kMs, 1e-12);
  EXPECT_NEAR(broadcast_seconds(f, kN, Algorithm::binomial), 10.012 * kMs, 1e-12);
  // alltoall: 3*1us + 4*10us + max(3/8*1e8/1e11, 4/8*1e8/12.5e9) = 43 us + 4 ms
  EXPECT_NEAR(alltoall_seconds(f, kN), 4.043 * kMs, 1e-12);
  // gather of 1e7 wire bytes per rank: allgather of 8e7: 16 us + 7/8*8e7/50e9 = 16 us + 1.4 ms
  const auto g = gather_reduce(f, 1e7);
  EXPECT_EQ(g.algorithm, Algorithm::gather);
  EXPECT_NEAR(g.seconds, 1.416 * kMs, 1e-12);
}

TEST(Collectives, BusBandwidthApproachesTheBottleneckLink) {
  const auto f = make_fabric(test_cluster(), 8);
  const Algorithm ring = Algorithm::ring;
  // nccl-tests: busbw = algbw * 2(p-1)/p; at 1e8 bytes: 1e8/3.532 ms * 1.75 = 49.547 GB/s
  const auto r = run_collective(f, CollectiveOp::allreduce, kN, kN, true, &ring);
  EXPECT_NEAR(r.busbw_gbyte_per_s, 1e8 / 3.532e-3 * 1.75 / 1e9, 1e-9);
  // for large messages the ring's busbw tends to the node's NIC bandwidth, 50 GB/s
  const auto big = run_collective(f, CollectiveOp::allreduce, 1e13, 1e13, true, &ring);
  EXPECT_NEAR(big.busbw_gbyte_per_s, 50.0, 50.0 * 1e-4);
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveOp::allgather, 8), 7.0 / 8.0);
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveOp::broadcast, 8), 1.0);
  // a non-summable payload cannot be forced onto a summing algorithm
  EXPECT_THROW(run_collective(f, CollectiveOp::allreduce, kN, kN, false, &ring), InputError);
}

TEST(Collectives, OnlyTheLibrarysAlgorithmsAreChosen) {
  auto c = test_cluster();
  c.allreduce_algorithm_mask = (1u << static_cast<unsigned>(Algorithm::ring)) |
                               (1u << static_cast<unsigned>(Algorithm::tree));  // NCCL
  const auto f = make_fabric(c, 4);
  // halving-doubling would be fastest (4 us + 1.5 ms), but NCCL has ring (6 us + 1.5 ms) and tree (6 us + 2 ms)
  const auto best = best_allreduce(f, kN);
  EXPECT_EQ(best.algorithm, Algorithm::ring);
  EXPECT_NEAR(best.seconds, 6 * kUs + 1.5 * kMs, 1e-12);
  // an int8-block buffer: 1e8 bytes of codes move as 1e8 + 4 ceil(1e8/256) bytes; algbw is of the buffer
  const Algorithm gather = Algorithm::gather;
  const auto r = run_collective(f, CollectiveOp::allreduce, kN, kN + 4 * 390625, false, &gather);
  EXPECT_NEAR(r.seconds, 3 * kUs + 3 * (kN + 4 * 390625) / 1e11, 1e-12);
  EXPECT_NEAR(r.algbw_gbyte_per_s, kN / r.seconds / 1e9, 1e-9);
}

TEST(Collectives, ParseNames) {
  EXPECT_EQ(parse_collective_op("reduce-scatter"), CollectiveOp::reduce_scatter);
  EXPECT_EQ(parse_algorithm("halving-doubling"), Algorithm::halving_doubling);
  EXPECT_THROW(parse_collective_op("allreduc"), InputError);
  EXPECT_THROW(parse_algorithm("butterfly"), InputError);
}

TEST(Collectives, PiecewiseLinksFollowTheCollectiveSize) {
  auto c = test_cluster();
  // below 64 KiB: 80 Gb/s and 2 us per step; above: the profile's 800 Gb/s and 1 us
  c.intra_node_regimes = {{65536, 80, 2}, {1e18, 800, 1}};
  const auto f = make_fabric(c, 4);
  // ring on 4 ranks: 2*3*alpha + 1.5 n / B
  EXPECT_NEAR(allreduce_seconds(f, 4096, Algorithm::ring), 12e-6 + 1.5 * 4096 / 1e10, 1e-15);
  EXPECT_NEAR(allreduce_seconds(f, 1e8, Algorithm::ring), 6e-6 + 1.5 * 1e8 / 1e11, 1e-15);
}

}  // namespace
}  // namespace bitscale
