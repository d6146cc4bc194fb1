#include "model/parse.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "kernels/input_error.hpp"

namespace bitscale {

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

[[noreturn]] void fail(std::string_view field, std::string_view text, const std::string& rule) {
  throw InputError("", std::string(field), std::string(text), rule);
}

// strtod on the whole string, or false.
bool to_double(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

std::vector<std::string> split_commas(std::string_view field, std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    auto item = trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (item.empty()) fail(field, text, "must be a comma-separated list without empty items");
    items.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::string positive_rule(double value, double max, bool allow_zero) {
  if (std::isnan(value)) return "must be a number, not NaN";
  if (std::isinf(value)) return "must be finite";
  if (allow_zero ? value < 0 : value <= 0) return allow_zero ? "must be >= 0" : "must be > 0";
  if (value != 0 && value < kMinPositive) {
    return fmt::format("must be {}>= {}", allow_zero ? "0 or " : "", format_value(kMinPositive));
  }
  if (value > max) return fmt::format("must be <= {}", format_value(max));
  return "";
}

std::int64_t parse_int(std::string_view field, std::string_view text, std::int64_t min, std::int64_t max) {
  const auto s = trim(text);
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const auto rule = fmt::format("must be an integer between {} and {}", min, max);
  if (s.empty() || ec == std::errc::invalid_argument || ptr != s.data() + s.size()) fail(field, text, rule);
  if (ec == std::errc::result_out_of_range || v < min || v > max) fail(field, text, rule);
  return v;
}

double parse_positive(std::string_view field, std::string_view text, double max, bool allow_zero) {
  double v = 0;
  if (!to_double(trim(text), v)) fail(field, text, "must be a number");
  const auto rule = positive_rule(v, max, allow_zero);
  if (!rule.empty()) fail(field, text, rule);
  return v;
}

double parse_bytes(std::string_view field, std::string_view text, double max) {
  const auto s = trim(text);
  std::size_t split = s.size();
  while (split > 0 && std::isalpha(static_cast<unsigned char>(s[split - 1]))) --split;
  const auto number = s.substr(0, split);
  const auto suffix = s.substr(split);
  struct Unit {
    const char* name;
    double bytes;
  };
  static constexpr Unit kUnits[] = {{"", 1},          {"B", 1},          {"KB", 1e3},       {"MB", 1e6},
                                    {"GB", 1e9},      {"TB", 1e12},      {"KiB", 1024.0},   {"MiB", 1048576.0},
                                    {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}, {"K", 1024.0},
                                    {"M", 1048576.0}, {"G", 1073741824.0}};
  double scale = 0;
  for (const auto& u : kUnits) {
    if (suffix == u.name) scale = u.bytes;
  }
  double v = 0;
  if (scale == 0 || !to_double(number, v)) {
    fail(field, text, "must be a size such as 4096, 64KiB, 25MiB or 1GB");
  }
  v *= scale;
  const auto rule = positive_rule(v, max);
  if (!rule.empty()) fail(field, text, rule + " bytes");
  return v;
}

std::vector<std::int64_t> parse_int_list(std::string_view field, std::string_view text, std::int64_t min,
                                         std::int64_t max) {
  std::vector<std::int64_t> out;
  for (const auto& item : split_commas(field, text)) {
    const auto dots = item.find("..");
    if (dots == std::string::npos) {
      out.push_back(parse_int(field, item, min, max));
      continue;
    }
    const auto lo = parse_int(field, item.substr(0, dots), min, max);
    const auto hi = parse_int(field, item.substr(dots + 2), min, max);
    if (hi < lo || lo < 1) fail(field, item, "a range a..b (doubling) needs 1 <= a <= b");
    for (auto v = lo; v <= hi; v *= 2) out.push_back(v);
  }
  return out;
}

std::vector<double> parse_positive_list(std::string_view field, std::string_view text, double max) {
  std::vector<double> out;
  for (const auto& item : split_commas(field, text)) out.push_back(parse_positive(field, item, max));
  return out;
}

std::vector<std::string> parse_name_list(std::string_view field, std::string_view text) {
  return split_commas(field, text);
}

}  // namespace bitscale
