#include "model/workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {
constexpr std::array<std::string_view, kLayerKindCount> kKindNames = {
    "conv", "linear", "attention", "recurrent", "embedding", "norm", "pool", "elementwise"};
}

std::string_view name(LayerKind k) { return kKindNames[static_cast<std::size_t>(k)]; }

LayerKind parse_layer_kind(std::string_view text, std::string_view source, std::string_view field) {
  std::string valid;
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == text) return static_cast<LayerKind>(i);
    valid += (i ? ", " : "") + std::string(kKindNames[i]);
  }
  throw InputError(std::string(source), std::string(field), std::string(text), "unknown layer kind; valid: " + valid);
}

std::int64_t Workload::parameters() const {
  std::int64_t n = 0;
  for (const auto& l : layers) n += l.parameters;
  return n;
}

std::int64_t Workload::parameter_tensors() const {
  std::int64_t n = 0;
  for (const auto& l : layers) n += l.parameter_tensors;
  return n;
}

double Workload::forward_flops() const {
  double f = 0;
  for (const auto& l : layers) f += l.forward_flops;
  return f;
}

std::int64_t Workload::activations() const {
  std::int64_t n = 0;
  for (const auto& l : layers) n += l.activations;
  return n;
}

void Workload::validate() const {
  if (layers.empty()) throw InputError(source, "layer", "", "a workload needs at least one layer");
  if (default_batch < 1) throw InputError(source, "batch", std::to_string(default_batch), "must be >= 1");
  // totals stay far inside int64 and double precision: 1e14 parameters is ~50x the largest model trained
  constexpr std::int64_t kMaxTotal = 100'000'000'000'000;
  std::int64_t params = 0, activations = 0;
  for (const auto& l : layers) {
    if (l.parameters > kMaxTotal - params || l.activations > kMaxTotal - activations) {
      throw InputError(source, "layer", l.name, "total parameters and activations per sample must stay <= 1e14");
    }
    params += std::max<std::int64_t>(l.parameters, 0);
    activations += std::max<std::int64_t>(l.activations, 0);
  }
  if (params < 1) throw InputError(source, "layer.parameters", "0", "a workload needs parameters to train");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const auto field = fmt::format("layer[{}] ({})", i, l.name);
    if (l.parameters < 0) throw InputError(source, field + ".parameters", std::to_string(l.parameters), "must be >= 0");
    if (l.activations < 0) throw InputError(source, field + ".activations", std::to_string(l.activations), "must be >= 0");
    if (!(l.forward_flops >= 0) || l.forward_flops > 1e18) {
      throw InputError(source, field + ".forward_flops", format_value(l.forward_flops), "must be in [0, 1e18]");
    }
  }
}

NetBuilder::Shape NetBuilder::conv(const std::string& name, Shape in, std::int64_t out_c, std::int64_t kh,
                                   std::int64_t kw, std::int64_t stride, std::int64_t pad_h, std::int64_t pad_w,
                                   bool bias) {
  Shape out{out_c, (in.h + 2 * pad_h - kh) / stride + 1, (in.w + 2 * pad_w - kw) / stride + 1};
  const std::int64_t weights = in.c * out_c * kh * kw;
  add({name, LayerKind::conv, weights + (bias ? out_c : 0),
       2.0 * static_cast<double>(in.c * kh * kw) * static_cast<double>(out.elements()), out.elements(),
       bias ? 2 : 1});
  if (bias && kh == kw && pad_h == pad_w) w_.layers.back().geometry = {in.c, out_c, kh, stride, pad_h, in.h, in.w};
  return out;
}

void NetBuilder::batchnorm(const std::string& name, Shape s) {
  // normalize, scale and shift: counted as 4 FLOPs per element
  add({name, LayerKind::norm, 2 * s.c, 4.0 * static_cast<double>(s.elements()), s.elements(), 2});
}

NetBuilder::Shape NetBuilder::pool(const std::string& name, Shape in, std::int64_t k, std::int64_t stride,
                                   std::int64_t pad) {
  Shape out{in.c, (in.h + 2 * pad - k) / stride + 1, (in.w + 2 * pad - k) / stride + 1};
  add({name, LayerKind::pool, 0, static_cast<double>(k * k) * static_cast<double>(out.elements()), out.elements(), 0});
  return out;
}

NetBuilder::Shape NetBuilder::global_pool(const std::string& name, Shape in) {
  add({name, LayerKind::pool, 0, static_cast<double>(in.elements()), in.c, 0});
  return Shape{in.c, 1, 1};
}

void NetBuilder::linear(const std::string& name, std::int64_t in, std::int64_t out, bool bias, std::int64_t tokens,
                        LayerKind kind) {
  add({name, kind, in * out + (bias ? out : 0),
       2.0 * static_cast<double>(in) * static_cast<double>(out) * static_cast<double>(tokens), out * tokens,
       bias ? 2 : 1});
  if (bias && tokens == 1 && kind == LayerKind::linear) w_.layers.back().geometry = {in, out, 0, 1, 0, 0, 0};
}

void NetBuilder::layernorm(const std::string& name, std::int64_t width, std::int64_t tokens) {
  // mean, variance, normalize, scale, shift: counted as 5 FLOPs per element
  add({name, LayerKind::norm, 2 * width, 5.0 * static_cast<double>(width * tokens), width * tokens, 2});
}

void NetBuilder::embedding(const std::string& name, std::int64_t rows, std::int64_t width, std::int64_t tokens) {
  add({name, LayerKind::embedding, rows * width, static_cast<double>(width * tokens), width * tokens, 1});
}

void NetBuilder::attention(const std::string& name, std::int64_t width, std::int64_t heads, std::int64_t tokens) {
  const double l = static_cast<double>(tokens);
  // kept for backward: scores and probabilities (heads x L x L each) and the context (L x width)
  add({name, LayerKind::attention, 0, 4.0 * l * l * static_cast<double>(width),
       2 * heads * tokens * tokens + tokens * width, 0});
}

void NetBuilder::add(Layer layer) { w_.layers.push_back(std::move(layer)); }

}  // namespace bitscale
