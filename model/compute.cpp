#include "model/compute.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bitscale {

namespace {
double roofline(const Layer& l, double rate, double hbm, double element_bytes, double batch) {
  const double math = l.forward_flops * batch / rate;
  const double memory =
      (static_cast<double>(l.parameters) + 2.0 * static_cast<double>(l.activations) * batch) * element_bytes / hbm;
  return std::max(math, memory);
}
}  // namespace

std::string layer_shape_key(const Layer& l, ComputePrecision compute, std::int64_t batch) {
  const auto& g = l.geometry;
  if (l.kind == LayerKind::linear && g.in > 0) {
    return fmt::format("{} linear {}x{} b{}", name(compute), g.in, g.out, batch);
  }
  if (l.kind == LayerKind::conv && g.kernel > 0) {
    return fmt::format("{} conv {}x{} k{} s{} p{} {}x{} b{}", name(compute), g.in, g.out, g.kernel, g.stride, g.padding,
                       g.h, g.w, batch);
  }
  return "";
}

double layer_forward_seconds(const Layer& l, const ClusterProfile& c, ComputePrecision compute, std::int64_t batch) {
  if (!c.layer_gflops.empty()) {
    const auto it = c.layer_gflops.find(layer_shape_key(l, compute, batch));
    if (it != c.layer_gflops.end()) return l.forward_flops * static_cast<double>(batch) / (it->second * 1e9);
  }
  return roofline(l, c.peak_flops(compute) * c.efficiency_for(compute, l.kind), c.hbm_gbyte_per_s * 1e9,
                  element_bytes(compute), static_cast<double>(batch));
}

std::optional<LayerGemms> layer_gemms(const Layer& l, std::int64_t batch) {
  if ((l.kind != LayerKind::linear && l.kind != LayerKind::conv) || l.activations <= 0 || l.parameters <= 0 ||
      !(l.forward_flops > 0) || batch < 1) {
    return std::nullopt;
  }
  const double k_exact = l.forward_flops / (2.0 * static_cast<double>(l.activations));
  const auto k = static_cast<std::int64_t>(std::llround(k_exact));
  if (k < 1 || std::fabs(k_exact - static_cast<double>(k)) > 1e-9 * k_exact) return std::nullopt;
  for (const std::int64_t per_output : {k, k + 1}) {  // without a bias, then with one
    if (l.parameters % per_output != 0) continue;
    const std::int64_t n = l.parameters / per_output;
    if (n < 1 || l.activations % n != 0) continue;
    const std::int64_t m = batch * (l.activations / n);
    return LayerGemms{{m, n, k}, {m, k, n}, {n, k, m}};
  }
  return std::nullopt;
}

StepCompute step_compute(const Workload& w, const ClusterProfile& c, ComputePrecision compute, StoragePolicy storage,
                         Optimizer optimizer, std::int64_t batch) {
  const double peak = c.peak_flops(compute);
  const double hbm = c.hbm_gbyte_per_s * 1e9;
  const double eb = element_bytes(compute);
  const auto b = static_cast<double>(batch);
  std::array<double, kLayerKindCount> rate{};
  for (int k = 0; k < kLayerKindCount; ++k) rate[k] = peak * c.efficiency_for(compute, static_cast<LayerKind>(k));
  double forward = 0;
  if (c.layer_gflops.empty()) {
    for (const auto& l : w.layers) forward += roofline(l, rate[static_cast<std::size_t>(l.kind)], hbm, eb, b);
  } else {
    for (const auto& l : w.layers) forward += layer_forward_seconds(l, c, compute, batch);
  }
  StepCompute s;
  s.forward_s = forward;
  s.backward_s = 2.0 * forward;
  s.optimizer_s = optimizer_seconds(w.parameters(), c, storage, optimizer);
  return s;
}

double optimizer_seconds(std::int64_t parameters, const ClusterProfile& c, StoragePolicy storage, Optimizer optimizer) {
  const auto bpp = bytes_per_parameter(storage, optimizer);
  return static_cast<double>(parameters) * (2.0 * (bpp.weights + bpp.master + bpp.optimizer_state) + bpp.gradients) /
         (c.hbm_gbyte_per_s * 1e9);
}

double codec_seconds(const ClusterProfile& c, const std::string& codec, double bytes_read, double bytes_written,
                     CodecDirection direction) {
  const auto& one = direction == CodecDirection::encode ? c.codec_encode_gbyte_per_s : c.codec_decode_gbyte_per_s;
  for (const auto* rates : {&one, &c.codec_gbyte_per_s}) {
    if (const auto it = rates->find(codec); it != rates->end()) {
      return (bytes_read + bytes_written) / (it->second * 1e9);
    }
  }
  return (bytes_read + bytes_written) / (c.hbm_gbyte_per_s * 1e9 * c.codec_hbm_efficiency);
}

double absmax_seconds(const ClusterProfile& c, double bytes) {
  return bytes / (c.hbm_gbyte_per_s * 1e9 * c.codec_hbm_efficiency);
}

double reduction_seconds(const ClusterProfile& c, const std::string& format, double wire_bytes, std::int64_t ranks) {
  if (ranks < 2) return 0;
  const double summed = (static_cast<double>(ranks) - 1) / static_cast<double>(ranks) * wire_bytes;
  if (const auto curve = c.reduction_by_size.find(format); curve != c.reduction_by_size.end()) {
    const auto& b = curve->second.bytes;
    const auto& ns = curve->second.ns_per_byte;
    // the first calibrated size at or above this one; beyond either end, the end's cost per byte
    const std::size_t hi = std::lower_bound(b.begin(), b.end(), wire_bytes) - b.begin();
    double per_byte = 0;
    if (hi == 0) {
      per_byte = ns.front();
    } else if (hi == b.size()) {
      per_byte = ns.back();
    } else {
      const double t = std::log(wire_bytes / b[hi - 1]) / std::log(b[hi] / b[hi - 1]);
      per_byte = ns[hi - 1] + t * (ns[hi] - ns[hi - 1]);
    }
    return summed * per_byte * 1e-9;
  }
  const auto it = c.reduction_gbyte_per_s.find(format);
  if (it == c.reduction_gbyte_per_s.end()) return 0;
  return summed / (it->second * 1e9);
}

}  // namespace bitscale
