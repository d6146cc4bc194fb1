#include "kernels/input_error.hpp"

#include <fmt/format.h>

#include <cmath>

namespace bitscale {

namespace {
std::string compose(const std::string& source, const std::string& field, const std::string& value,
                    const std::string& rule) {
  const auto prefix = source.empty() ? std::string() : fmt::format("{}: ", source);
  const auto shown = value.empty() ? std::string() : fmt::format(" = '{}'", value);
  return fmt::format("{}{}{}: {}", prefix, field, shown, rule);
}
}  // namespace

InputError::InputError(std::string source, std::string field, std::string value, std::string rule)
    : std::runtime_error(compose(source, field, value, rule)),
      source_(std::move(source)),
      field_(std::move(field)),
      value_(std::move(value)),
      rule_(std::move(rule)) {}

std::string format_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

namespace detail {
CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  message_ << file << ":" << line << ": check failed: " << condition << " ";
}
CheckFailure::~CheckFailure() noexcept(false) { throw std::logic_error(message_.str()); }
}  // namespace detail

}  // namespace bitscale
