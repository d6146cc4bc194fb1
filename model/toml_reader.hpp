// Checked reads from a parsed TOML table: every failure is an InputError naming the file, the dotted field,
// the value and the rule. Internal to bitscale::model.
#pragma once
#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace bitscale {

// Parses TOML text; a syntax error (including a duplicate key) becomes an InputError with line and column.
toml::table parse_toml(std::string_view text, const std::string& source);
// Reads a whole file; a missing file, a directory or an unreadable file becomes an InputError.
std::string read_text_file(const std::string& path, std::string_view field);

class TomlReader {
 public:
  TomlReader(const toml::table& table, std::string source, std::string prefix = "")
      : table_(table), source_(std::move(source)), prefix_(std::move(prefix)) {}

  bool has(std::string_view key) const { return table_.contains(key); }
  std::string field(std::string_view key) const { return prefix_ + std::string(key); }

  std::string text(std::string_view key) const;
  std::optional<std::string> optional_text(std::string_view key) const;
  // A finite number in (0, max] (or [0, max] when allow_zero).
  double number(std::string_view key, double max, bool allow_zero = false) const;
  std::optional<double> optional_number(std::string_view key, double max, bool allow_zero = false) const;
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  std::optional<std::int64_t> optional_integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  bool boolean(std::string_view key, bool fallback) const;
  TomlReader table(std::string_view key) const;  // required sub-table
  // Rejects keys not in `allowed` (catches typos such as "bandwith_gbps"); "source" is always allowed.
  void only(std::initializer_list<std::string_view> allowed) const;

  const toml::table& raw() const { return table_; }
  const std::string& source() const { return source_; }

 private:
  const toml::node& require(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, const toml::node* node, const std::string& rule) const;

  const toml::table& table_;
  std::string source_;
  std::string prefix_;
};

}  // namespace bitscale
