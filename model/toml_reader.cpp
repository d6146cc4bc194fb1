#include "model/toml_reader.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kernels/input_error.hpp"
#include "model/parse.hpp"

namespace bitscale {

namespace {
std::string show(const toml::node* node) {
  if (node == nullptr) return "";
  std::ostringstream out;
  if (node->is_table()) return "<table>";
  if (node->is_array()) return "<array>";
  out << toml::default_formatter{toml::array{*node}, toml::format_flags::none};
  auto s = out.str();  // "[ value ]"
  if (s.size() >= 4) s = s.substr(2, s.size() - 4);
  return s;
}
}  // namespace

toml::table parse_toml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw InputError(source, fmt::format("line {} column {}", where.line, where.column), "",
                     fmt::format("malformed TOML: {}", e.description()));
  }
}

std::string read_text_file(const std::string& path, std::string_view field) {
  constexpr std::uintmax_t kMaxBytes = 16u << 20;  // profiles and workloads are kilobytes
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError("", std::string(field), path, "is a directory; a file is expected");
  }
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    throw InputError("", std::string(field), path, "is not a regular file");
  }
  if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) > kMaxBytes) {
    throw InputError("", std::string(field), path, "is larger than 16 MiB; not a profile or workload file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("", std::string(field), path, "cannot open the file (missing or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError("", std::string(field), path, "cannot read the file");
  return text.str();
}

void TomlReader::fail(std::string_view key, const toml::node* node, const std::string& rule) const {
  throw InputError(source_, field(key), show(node), rule);
}

const toml::node& TomlReader::require(std::string_view key) const {
  const auto* node = table_.get(key);
  if (node == nullptr) fail(key, nullptr, "missing (required)");
  return *node;
}

std::string TomlReader::text(std::string_view key) const {
  const auto& node = require(key);
  if (!node.is_string()) fail(key, &node, "must be a string");
  return std::string(*node.value<std::string_view>());
}

std::optional<std::string> TomlReader::optional_text(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return text(key);
}

double TomlReader::number(std::string_view key, double max, bool allow_zero) const {
  const auto& node = require(key);
  if (!node.is_number()) fail(key, &node, "must be a number");
  const double v = *node.value<double>();
  const auto rule = positive_rule(v, max, allow_zero);
  if (!rule.empty()) fail(key, &node, rule);
  return v;
}

std::optional<double> TomlReader::optional_number(std::string_view key, double max, bool allow_zero) const {
  if (!has(key)) return std::nullopt;
  return number(key, max, allow_zero);
}

std::int64_t TomlReader::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  const auto& node = require(key);
  if (!node.is_integer()) fail(key, &node, "must be an integer");
  const auto v = *node.value<std::int64_t>();
  if (v < min || v > max) fail(key, &node, fmt::format("must be between {} and {}", min, max));
  return v;
}

std::optional<std::int64_t> TomlReader::optional_integer(std::string_view key, std::int64_t min,
                                                         std::int64_t max) const {
  if (!has(key)) return std::nullopt;
  return integer(key, min, max);
}

bool TomlReader::boolean(std::string_view key, bool fallback) const {
  if (!has(key)) return fallback;
  const auto& node = require(key);
  if (!node.is_boolean()) fail(key, &node, "must be true or false");
  return *node.value<bool>();
}

TomlReader TomlReader::table(std::string_view key) const {
  const auto& node = require(key);
  if (!node.is_table()) fail(key, &node, "must be a table");
  return TomlReader(*node.as_table(), source_, field(key) + ".");
}

void TomlReader::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [k, v] : table_) {
    const auto key = k.str();
    if (key == "source") continue;
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      std::string valid;
      for (auto a : allowed) valid += (valid.empty() ? "" : ", ") + std::string(a);
      fail(key, &v, "unknown key; valid here: " + valid);
    }
  }
}

}  // namespace bitscale
