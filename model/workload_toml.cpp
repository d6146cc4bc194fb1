// A user's workload as TOML. Layers are described by their architecture (linear, conv) and the counts are
// computed as for the shipped workloads, or given explicitly (parameters, forward_flops, activations):
//
//   name = "my-net"            # required
//   batch = 64                 # per GPU (default 32)
//   optimizer = "adam"         # sgd | momentum | adam (default momentum)
//   [[layer]]
//   kind = "linear"            # in_features, out_features, bias = true, tokens = 1
//   [[layer]]
//   kind = "conv"              # in_channels, out_channels, kernel, input = [h, w], stride = 1, padding = 0
//   [[layer]]
//   kind = "attention"         # any kind with explicit counts: parameters, forward_flops, activations
#include <fmt/format.h>

#include "kernels/input_error.hpp"
#include "model/toml_reader.hpp"
#include "model/workload.hpp"

namespace bitscale {

namespace {

constexpr std::int64_t kMaxWidth = 1'000'000;
constexpr double kMaxCount = 1e15;

void add_layer(NetBuilder& b, const TomlReader& r, std::size_t index) {
  const auto kind = parse_layer_kind(r.text("kind"), r.source(), r.field("kind"));
  const auto name = r.optional_text("name").value_or(fmt::format("layer{}", index));
  if (r.has("parameters")) {
    r.only({"name", "kind", "parameters", "forward_flops", "activations", "parameter_tensors"});
    Layer l;
    l.name = name;
    l.kind = kind;
    l.parameters = r.integer("parameters", 0, static_cast<std::int64_t>(kMaxCount));
    l.forward_flops = r.number("forward_flops", 1e18, true);
    l.activations = r.integer("activations", 0, static_cast<std::int64_t>(kMaxCount));
    l.parameter_tensors = r.optional_integer("parameter_tensors", 0, 1'000'000).value_or(l.parameters > 0 ? 1 : 0);
    b.add(l);
    return;
  }
  switch (kind) {
    case LayerKind::linear:
      r.only({"name", "kind", "in_features", "out_features", "bias", "tokens"});
      b.linear(name, r.integer("in_features", 1, kMaxWidth), r.integer("out_features", 1, kMaxWidth),
               r.boolean("bias", true), r.optional_integer("tokens", 1, 1'000'000).value_or(1));
      return;
    case LayerKind::conv: {
      r.only({"name", "kind", "in_channels", "out_channels", "kernel", "stride", "padding", "input", "bias"});
      const auto* input = r.raw().get_as<toml::array>("input");
      if (input == nullptr || input->size() != 2 || !(*input)[0].is_integer() || !(*input)[1].is_integer()) {
        throw InputError(r.source(), r.field("input"), "", "must be [height, width] (two integers)");
      }
      const auto h = *(*input)[0].value<std::int64_t>();
      const auto w = *(*input)[1].value<std::int64_t>();
      const auto k = r.integer("kernel", 1, 64);
      const auto pad = r.optional_integer("padding", 0, 1024).value_or(0);
      if (h < 1 || w < 1 || h > 100'000 || w > 100'000 || h + 2 * pad < k || w + 2 * pad < k) {
        throw InputError(r.source(), r.field("input"), fmt::format("[{}, {}]", h, w),
                         "must be positive and at least the kernel size (with padding)");
      }
      b.conv(name, {r.integer("in_channels", 1, kMaxWidth), h, w}, r.integer("out_channels", 1, kMaxWidth), k, k,
             r.optional_integer("stride", 1, 1024).value_or(1), pad, pad, r.boolean("bias", true));
      return;
    }
    default:
      throw InputError(r.source(), r.field("kind"), std::string(bitscale::name(kind)),
                       "this kind needs explicit parameters, forward_flops and activations");
  }
}

}  // namespace

Workload parse_workload_toml(std::string_view text, const std::string& source) {
  const auto doc = parse_toml(text, source);
  const TomlReader r(doc, source);
  r.only({"name", "description", "sample", "batch", "optimizer", "layer"});
  Workload w;
  w.name = r.text("name");
  w.description = r.optional_text("description").value_or("user workload");
  w.sample = r.optional_text("sample").value_or("sample");
  w.source = source;
  w.default_batch = r.optional_integer("batch", 1, 1'000'000'000).value_or(32);
  if (auto o = r.optional_text("optimizer")) w.default_optimizer = parse_optimizer(*o, r.field("optimizer"));
  const auto* layers = doc.get("layer");
  if (layers == nullptr || !layers->is_array_of_tables()) {
    throw InputError(source, "layer", "", "missing: give the layers as [[layer]] tables");
  }
  NetBuilder b(w);
  std::size_t index = 0;
  for (const auto& node : *layers->as_array()) {
    add_layer(b, TomlReader(*node.as_table(), source, fmt::format("layer[{}].", index)), index);
    ++index;
  }
  w.validate();
  return w;
}

Workload load_workload_toml(const std::string& path) {
  return parse_workload_toml(read_text_file(path, "--workload"), path);
}

}  // namespace bitscale
