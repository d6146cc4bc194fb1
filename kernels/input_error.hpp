// Bad input versus bugs. InputError is bad input from a user (a flag, a file, a profile): it names the source,
// the field, the value and the rule, and the CLI turns it into one line on stderr and exit code 2.
// BITSCALE_CHECK is for bugs: it throws std::logic_error quoting file:line and the failed condition.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace bitscale {

class InputError : public std::runtime_error {
 public:
  InputError(std::string source, std::string field, std::string value, std::string rule);
  const std::string& source() const { return source_; }
  const std::string& field() const { return field_; }
  const std::string& value() const { return value_; }
  const std::string& rule() const { return rule_; }

 private:
  std::string source_, field_, value_, rule_;
};

// `s` with control characters escaped (\n, \t, \x01), so a message stays on one line.
std::string printable(const std::string& s);

// A number as it appears in a message: shortest round-trip form (no trailing zeros, "nan", "inf").
std::string format_value(double v);

namespace detail {
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition);
  [[noreturn]] ~CheckFailure() noexcept(false);
  template <typename T>
  CheckFailure& operator<<(const T& v) {
    message_ << v;
    return *this;
  }

 private:
  std::ostringstream message_;
};
}  // namespace detail

}  // namespace bitscale

#define BITSCALE_CHECK(cond) \
  if (cond) {                \
  } else                     \
    ::bitscale::detail::CheckFailure(__FILE__, __LINE__, #cond)
