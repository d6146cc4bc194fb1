#include "kernels/input_error.hpp"

#include <fmt/format.h>

#include <cmath>

namespace bitscale {

// Control characters from user input would break the one-line message: show them escaped.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

namespace {
std::string compose(const std::string& source, const std::string& field, const std::string& value,
                    const std::string& rule) {
  const auto prefix = source.empty() ? std::string() : fmt::format("{}: ", printable(source));
  const auto shown = value.empty() ? std::string() : fmt::format(" = '{}'", printable(value));
  return fmt::format("{}{}{}: {}", prefix, printable(field), shown, printable(rule));
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
