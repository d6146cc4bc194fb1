// A small CPU neural network for the validation trainer (`bitscale train`): the linear and convolution layers of
// a workload file, each followed by ReLU but the last, and softmax cross-entropy on its outputs. Forward and
// backward passes are Eigen GEMMs (single precision, one thread): a linear layer is Y = W X + b; a convolution is
// im2col then Y = W cols + b, its backward dW = dY cols^T, dcols = W^T dY, then col2im. Every layer computes its
// input gradient, so a layer's backward is two GEMMs of its forward's size (the model's "backward = 2x forward").
//
// Gradients live in one flat buffer, laid out from the last layer to the first (weights then bias), so the
// gradients of consecutive layers in backward order are contiguous: a DDP bucket is one span of it.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/workload.hpp"

namespace bitscale {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;  // column-major

class NnLayer {
 public:
  virtual ~NnLayer() = default;
  // x: one column per sample (features in the layer's input layout); returns the output, keeps what backward needs
  virtual const Matrix& forward(const Matrix& x) = 0;
  // dy: gradient of the output; writes the parameter gradients, returns the input gradient
  virtual const Matrix& backward(const Matrix& dy) = 0;
  virtual std::int64_t parameters() const = 0;
  // binds the layer's weights and gradients to spans of the flat buffers (weights first, then bias)
  virtual void bind(float* weights, float* gradients) = 0;
};

class Network {
 public:
  // The linear and conv layers of `w` (others are refused with an InputError naming the layer), for `batch`
  // samples per step; weights drawn with He initialisation from `seed` (the same on every rank).
  Network(const Workload& w, std::int64_t batch, std::uint64_t seed);

  std::int64_t input_features() const { return input_features_; }
  std::int64_t classes() const { return classes_; }
  // the workload's layers (the network adds layout changes of its own, which have no index here)
  std::int64_t layers() const { return static_cast<std::int64_t>(offsets_.size()); }
  std::int64_t parameters() const { return static_cast<std::int64_t>(weights_.size()); }
  // [offset, offset + count) of layer i's gradients in the flat buffer
  std::int64_t gradient_offset(std::int64_t layer) const { return offsets_[static_cast<std::size_t>(layer)]; }
  std::int64_t layer_parameters(std::int64_t layer) const;

  // The forward pass and the mean cross-entropy loss of the batch against `labels` (one per sample). With
  // `seconds` (one entry per workload layer), adds each layer's forward time to its entry: a layer's own ReLU and
  // the layout change before it count to it, the loss to the last layer.
  double forward(const Matrix& x, std::span<const std::int32_t> labels, std::span<double> seconds = {});
  // The backward pass down to and including workload layer i (call from the last layer down, after forward): its
  // gradients are final after.
  void backward_layer(std::int64_t layer);

  std::span<float> weights() { return weights_; }
  std::span<float> gradients() { return gradients_; }

 private:
  std::vector<std::unique_ptr<NnLayer>> layers_;
  std::vector<std::int64_t> offsets_;
  std::vector<float> weights_, gradients_;
  std::int64_t input_features_ = 0, classes_ = 0;
  std::vector<std::int64_t> owner_;    // the workload layer of each nn layer (-1: a layout change)
  std::int64_t next_backward_ = -1;    // the next nn layer the backward pass runs
  std::vector<const Matrix*> inputs_;  // layer i's input in the last forward
  Matrix dlogits_;
  const Matrix* upstream_ = nullptr;  // gradient flowing into the next layer down
};

// FLOP/s of one linear or conv layer's forward and backward (3x its forward FLOPs) through this trainer's
// kernels, on `batch` samples of random data: the median of `runs` after one warm-up. Calibration measures the
// layer kinds' achieved rates with it.
double layer_flops_per_s(const Layer& layer, std::int64_t batch, int runs);
// Seconds of each workload layer's forward + backward inside the trainer's own step (Network::forward and
// backward_layer on the workload's synthetic task at `batch`, as `bitscale train` runs them: a layer's forward
// with its ReLU and the layout change before it, its backward with the layout change above it, the loss with the
// last layer, the optimizer not), one row per layer and one column per timed step, `steps` steps after 2 warm-up
// steps. Calibration measures the workloads' layer rates with it.
std::vector<std::vector<double>> network_layer_seconds(const Workload& w, std::int64_t batch, int steps);
// One step of the trainer's forward and backward passes of `w`'s network on `batch` samples of its synthetic task
// per call (the loss included, the optimizer not), on a network and batch made once (one warm-up step taken).
// Calibration times the rank skew with it: the step's own spread from step to step.
std::function<void()> network_step(const Workload& w, std::int64_t batch);
// One forward + backward pass of `layer` on `batch` samples per call, on a layer and buffers made once (the
// steady state of a training loop: no allocation in the pass). For contention measurements.
std::function<void()> layer_pass(const Layer& layer, std::int64_t batch);

// The gradients of `w`'s network after one forward and backward pass at initialisation (seed 1) on a batch of
// its synthetic task: the values the trainer's codecs encode, whose speed depends on them.
std::vector<float> initial_gradients(const Workload& w, std::int64_t batch);

// A synthetic classification task every rank can draw from: inputs are standard normal, the label of an input
// is the argmax of a fixed random linear map (a "teacher"), so a network can learn it and its loss falls.
class TeacherTask {
 public:
  TeacherTask(std::int64_t features, std::int64_t classes, std::uint64_t seed);
  // `batch` samples from stream `stream` (e.g. the rank), batch number `index`
  void draw(std::int64_t batch, std::uint64_t stream, std::uint64_t index, Matrix& x, std::vector<std::int32_t>& y) const;

 private:
  Matrix teacher_;
};

}  // namespace bitscale
