#include "model/precision.hpp"

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

template <typename Enum, std::size_t N>
Enum parse_enum(std::string_view text, std::string_view field, const std::array<Enum, N>& all) {
  std::string valid;
  for (auto e : all) {
    if (name(e) == text) return e;
    valid += (valid.empty() ? "" : ", ") + std::string(name(e));
  }
  throw InputError("", std::string(field), std::string(text), "unknown name; valid: " + valid);
}

}  // namespace

std::string_view name(ComputePrecision p) {
  switch (p) {
    case ComputePrecision::fp32: return "fp32";
    case ComputePrecision::tf32: return "tf32";
    case ComputePrecision::fp16: return "fp16";
    case ComputePrecision::bf16: return "bf16";
    case ComputePrecision::fp8: return "fp8";
  }
  return "?";
}

std::string_view name(StoragePolicy s) {
  switch (s) {
    case StoragePolicy::fp32: return "fp32";
    case StoragePolicy::amp: return "amp";
    case StoragePolicy::standalone16: return "standalone16";
    case StoragePolicy::fp8: return "fp8";
  }
  return "?";
}

std::string_view name(Optimizer o) {
  switch (o) {
    case Optimizer::sgd: return "sgd";
    case Optimizer::momentum: return "momentum";
    case Optimizer::adam: return "adam";
  }
  return "?";
}

ComputePrecision parse_compute_precision(std::string_view text, std::string_view field) {
  return parse_enum(text, field,
                    std::array{ComputePrecision::fp32, ComputePrecision::tf32, ComputePrecision::fp16,
                               ComputePrecision::bf16, ComputePrecision::fp8});
}

StoragePolicy parse_storage_policy(std::string_view text, std::string_view field) {
  return parse_enum(text, field,
                    std::array{StoragePolicy::fp32, StoragePolicy::amp, StoragePolicy::standalone16,
                               StoragePolicy::fp8});
}

Optimizer parse_optimizer(std::string_view text, std::string_view field) {
  return parse_enum(text, field, std::array{Optimizer::sgd, Optimizer::momentum, Optimizer::adam});
}

double element_bytes(ComputePrecision p) {
  switch (p) {
    case ComputePrecision::fp32:
    case ComputePrecision::tf32: return 4;
    case ComputePrecision::fp16:
    case ComputePrecision::bf16: return 2;
    case ComputePrecision::fp8: return 1;
  }
  return 4;
}

StoragePolicy default_storage(ComputePrecision p) {
  switch (p) {
    case ComputePrecision::fp32:
    case ComputePrecision::tf32: return StoragePolicy::fp32;
    case ComputePrecision::fp16:
    case ComputePrecision::bf16: return StoragePolicy::amp;
    case ComputePrecision::fp8: return StoragePolicy::fp8;
  }
  return StoragePolicy::fp32;
}

BytesPerParameter bytes_per_parameter(StoragePolicy s, Optimizer o) {
  const int moments = o == Optimizer::sgd ? 0 : (o == Optimizer::momentum ? 1 : 2);
  BytesPerParameter b;
  switch (s) {
    case StoragePolicy::fp32:
      b = {4, 4, 0, 4.0 * moments};
      break;
    case StoragePolicy::amp:
      b = {2, 2, 4, 4.0 * moments};
      break;
    case StoragePolicy::standalone16:
      b = {2, 2, 0, 2.0 * moments};
      break;
    case StoragePolicy::fp8:
      // first moment fp8, second moment fp16
      b = {1, 1, 2, moments >= 1 ? 1.0 + (moments == 2 ? 2.0 : 0.0) : 0.0};
      break;
  }
  return b;
}

}  // namespace bitscale
