// From a fitted allreduce curve to the link parameters of a cluster profile. A fit T(n) = a + n/b of an
// allreduce on p ranks over N nodes is read through the ring formula the predictor uses
// (model/collectives.hpp): a = 2((p-N) alpha_i + (N-1) alpha_e), b = p/(2(p-1)) B_ring. So the profile then
// predicts exactly the measured curve at p ranks, and the ring formula carries it to other rank counts.
//  - one node (N = 1): alpha_i = a / (2(p-1)), B_i = 2(p-1)/p b                     -> [intra_node]
//  - several nodes: alpha_e = (a/2 - (p-N) alpha_i) / (N-1) with the profile's alpha_i, and the node's NIC
//    bandwidth g B_e = 2(p-1)/p b (the ring's bottleneck across nodes)                -> [inter_node]
// Each regime of a piecewise fit becomes a regime of the link.
#pragma once
#include <cstdint>
#include <string>

#include "calibrate/fit.hpp"
#include "model/cluster.hpp"

namespace bitscale {

// Writes the fit into `profile` (intra_node for one node, inter_node otherwise), with `source` for every number
// it sets, and restricts the profile's allreduce to ring (the algorithm the mapping assumes).
void apply_allreduce_fit(ClusterProfile& profile, const PiecewiseFit& fit, std::int64_t ranks, std::int64_t nodes,
                         const std::string& source);

}  // namespace bitscale
