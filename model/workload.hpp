// Workloads: ordered layers computed from an architecture description. Per layer: parameters, forward FLOPs
// per sample (2 per multiply-accumulate), activation elements per sample (the layer's output, kept for the
// backward pass) and kind. Backward FLOPs are taken as 2x forward (input and weight gradients).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/precision.hpp"

namespace bitscale {

enum class LayerKind { conv, linear, attention, recurrent, embedding, norm, pool, elementwise };
inline constexpr int kLayerKindCount = 8;
std::string_view name(LayerKind k);
LayerKind parse_layer_kind(std::string_view text, std::string_view source, std::string_view field);

// A layer's architecture where it was given by one (linear and conv layers with a bias, one token per sample):
// what a trainer needs to rebuild it. Zero where the layer was given by its counts only.
struct LayerGeometry {
  std::int64_t in = 0, out = 0;  // features, or channels of a convolution
  std::int64_t kernel = 0, stride = 1, padding = 0, h = 0, w = 0;  // square convolution on an h x w input
};

struct Layer {
  std::string name;
  LayerKind kind = LayerKind::linear;
  std::int64_t parameters = 0;
  double forward_flops = 0;          // per sample
  std::int64_t activations = 0;      // output elements per sample
  std::int64_t parameter_tensors = 0;  // weight + bias tensors (a DDP bucket holds tensors)
  LayerGeometry geometry{};
};

struct Workload {
  std::string name;
  std::string description;
  std::string source;         // where the architecture comes from
  std::string sample;         // what one sample is ("224x224 image", "sequence of 512 tokens")
  std::int64_t default_batch = 32;  // per GPU
  Optimizer default_optimizer = Optimizer::momentum;
  std::vector<Layer> layers;

  std::int64_t parameters() const;
  std::int64_t parameter_tensors() const;
  double forward_flops() const;    // per sample
  std::int64_t activations() const;  // per sample
  void validate() const;           // throws InputError on a malformed (user) workload
};

// Helper for architecture builders: tracks the feature map shape and appends layers with their counts.
class NetBuilder {
 public:
  explicit NetBuilder(Workload& w) : w_(w) {}

  struct Shape {
    std::int64_t c = 0, h = 1, w = 1;
    std::int64_t elements() const { return c * h * w; }
  };

  // Conv2d (optionally with bias): out = floor((h + 2p - k)/s) + 1 per axis.
  Shape conv(const std::string& name, Shape in, std::int64_t out_c, std::int64_t kh, std::int64_t kw,
             std::int64_t stride = 1, std::int64_t pad_h = 0, std::int64_t pad_w = 0, bool bias = true);
  // BatchNorm2d: 2 parameters per channel (scale, shift); running statistics are buffers, not parameters.
  void batchnorm(const std::string& name, Shape s);
  Shape pool(const std::string& name, Shape in, std::int64_t k, std::int64_t stride, std::int64_t pad = 0);
  Shape global_pool(const std::string& name, Shape in);
  // Linear on `tokens` positions per sample.
  void linear(const std::string& name, std::int64_t in, std::int64_t out, bool bias = true,
              std::int64_t tokens = 1, LayerKind kind = LayerKind::linear);
  void layernorm(const std::string& name, std::int64_t width, std::int64_t tokens);
  void embedding(const std::string& name, std::int64_t rows, std::int64_t width, std::int64_t tokens);
  // Scaled dot-product attention without its projections: QK^T and (softmax)V, 2*L*L*width FLOPs each.
  void attention(const std::string& name, std::int64_t width, std::int64_t heads, std::int64_t tokens);
  void add(Layer layer);

 private:
  Workload& w_;
};

// The shipped workloads: a name, a one-line summary and a builder.
struct WorkloadInfo {
  std::string_view name;
  std::string_view summary;
  Workload (*build)();
};
std::span<const WorkloadInfo> workload_table();

Workload make_alexnet();
Workload make_vgg16();
Workload make_resnet50();
Workload make_inception_v3();
Workload make_bert_large();
Workload make_gpt2_xl();
Workload make_lstm_lm();
// An MLP with the given layer widths (input first), ReLU between layers.
Workload make_mlp(std::span<const std::int64_t> widths);

// A shipped name, "mlp:784,1024,10" (widths), or a path to a TOML workload file. Throws InputError.
Workload find_workload(std::string_view name_or_path);
Workload load_workload_toml(const std::string& path);
Workload parse_workload_toml(std::string_view text, const std::string& source);

}  // namespace bitscale
