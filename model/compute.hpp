// Compute time of one training step on one GPU, per layer by roofline:
//   forward(layer) = max(FLOPs x batch / (peak[compute] x efficiency[kind]),
//                        (parameters x w + 2 x activations x batch x a) / HBM)
// with w, a the bytes of a weight and an activation element in the compute precision (input and output
// activations taken as equal in size). Backward = 2 x forward (input and weight gradients: twice the FLOPs
// and twice the traffic). Optimizer step: memory-bound, it reads and writes weights, master copy and
// optimizer state and reads gradients: parameters x (2 (w + m + s) + g) / HBM.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "model/cluster.hpp"
#include "model/precision.hpp"
#include "model/workload.hpp"

namespace bitscale {

struct StepCompute {
  double forward_s = 0, backward_s = 0, optimizer_s = 0;
  double total_s() const { return forward_s + backward_s + optimizer_s; }
};

// The key of a layer's measured rate in a profile's [layer_rates]: "fp32 linear 784x1024 b256",
// "fp32 conv 3x32 k3 s1 p1 32x32 b32"; "" for a layer without an architecture (LayerGeometry).
std::string layer_shape_key(const Layer& l, ComputePrecision compute, std::int64_t batch);

// The forward time of one layer: its measured rate where the profile has one for its shape, precision and batch
// (a third of the measured forward + backward time), else the roofline.
double layer_forward_seconds(const Layer& l, const ClusterProfile& c, ComputePrecision compute, std::int64_t batch);

// The matrix products of a linear or conv layer (a convolution as the product of its unfolded input, im2col),
// derived from the layer's counts alone: k = forward FLOPs / (2 x activations) inputs per output, n outputs per
// position (weights / k, or (weights - n) / k with a bias: whichever divides the activations), m = batch x
// positions. Forward Y[m x n] = X[m x k] W^T; input gradient dX[m x k] = dY W (m, k, n); weight gradient
// dW[n x k] = dY^T X (n, k, m): three products of 2 m n k FLOPs each, 3x the forward FLOPs as the model counts.
struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
  double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};
struct LayerGemms {
  GemmShape forward, input_gradient, weight_gradient;
};
// std::nullopt for other kinds and for counts no such product gives.
std::optional<LayerGemms> layer_gemms(const Layer& l, std::int64_t batch);

// The optimizer step alone: memory-bound, parameters x (2 (w + m + s) + g) / HBM.
double optimizer_seconds(std::int64_t parameters, const ClusterProfile& c, StoragePolicy storage, Optimizer optimizer);

StepCompute step_compute(const Workload& w, const ClusterProfile& c, ComputePrecision compute, StoragePolicy storage,
                         Optimizer optimizer, std::int64_t batch);

// Codec kernel time: at the profile's measured rate for the codec in that direction ([codec_encode],
// [codec_decode]; decode-and-accumulate is a decode), else at its rate for both directions together ([codecs]),
// else memory-bound at codec_hbm_efficiency of the memory bandwidth.
enum class CodecDirection { encode, decode };
double codec_seconds(const ClusterProfile& c, const std::string& codec, double bytes_read, double bytes_written,
                     CodecDirection direction);

// The APS absmax pass over `bytes` of fp32 gradients: one read, memory-bound at codec_hbm_efficiency of the
// memory bandwidth (a profile's measured codec rates include the codec's own absmax and do not apply).
double absmax_seconds(const ClusterProfile& c, double bytes);

// The sums of an allreduce of `wire_bytes` in `format` over `ranks` beyond what the link fit holds: each rank
// adds (p-1)/p of the buffer, (p-1)/p x n / reductions[format], or (p-1)/p x n x the cost per byte at n
// from [reduction_sizes] where the profile has one for the format; 0 for a format the profile lists in neither.
double reduction_seconds(const ClusterProfile& c, const std::string& format, double wire_bytes, std::int64_t ranks);

}  // namespace bitscale
