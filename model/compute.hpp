// Compute time of one training step on one GPU, per layer by roofline:
//   forward(layer) = max(FLOPs x batch / (peak[compute] x efficiency[kind]),
//                        (parameters x w + 2 x activations x batch x a) / HBM)
// with w, a the bytes of a weight and an activation element in the compute precision (input and output
// activations taken as equal in size). Backward = 2 x forward (input and weight gradients: twice the FLOPs
// and twice the traffic). Optimizer step: memory-bound, it reads and writes weights, master copy and
// optimizer state and reads gradients: parameters x (2 (w + m + s) + g) / HBM.
#pragma once
#include <cstdint>

#include "model/cluster.hpp"
#include "model/precision.hpp"
#include "model/workload.hpp"

namespace bitscale {

struct StepCompute {
  double forward_s = 0, backward_s = 0, optimizer_s = 0;
  double total_s() const { return forward_s + backward_s + optimizer_s; }
};

// The roofline forward time of one layer.
double layer_forward_seconds(const Layer& l, const ClusterProfile& c, ComputePrecision compute, std::int64_t batch);

// The optimizer step alone: memory-bound, parameters x (2 (w + m + s) + g) / HBM.
double optimizer_seconds(std::int64_t parameters, const ClusterProfile& c, StoragePolicy storage, Optimizer optimizer);

StepCompute step_compute(const Workload& w, const ClusterProfile& c, ComputePrecision compute, StoragePolicy storage,
                         Optimizer optimizer, std::int64_t batch);

// Codec kernel time: at the profile's measured rate for the codec, else memory-bound at codec_hbm_efficiency of
// the memory bandwidth.
double codec_seconds(const ClusterProfile& c, const std::string& codec, double bytes_read, double bytes_written);

}  // namespace bitscale
