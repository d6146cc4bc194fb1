// Parsing of user-supplied numbers, lists and sizes (command line and files), with the rule in every error.
//   LIST  = comma-separated items; an item "a..b" is a doubling range a, 2a, 4a, ... up to b (1,2,4..1024).
//   SIZE  = a number with an optional suffix: B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB (powers of 1024).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitscale {

// Largest GPU count accepted anywhere (2^24): far beyond any cluster, small enough to stay exact in doubles.
inline constexpr std::int64_t kMaxGpus = std::int64_t{1} << 24;

// An integer in [min, max]; rejects fractions, signs where negative, garbage and overflow.
std::int64_t parse_int(std::string_view field, std::string_view text, std::int64_t min, std::int64_t max);

// A finite number in (0, max] (or [0, max] when allow_zero).
double parse_positive(std::string_view field, std::string_view text, double max, bool allow_zero = false);

// A SIZE in bytes, > 0 and <= max.
double parse_bytes(std::string_view field, std::string_view text, double max);

std::vector<std::int64_t> parse_int_list(std::string_view field, std::string_view text, std::int64_t min,
                                         std::int64_t max);
std::vector<double> parse_positive_list(std::string_view field, std::string_view text, double max);
std::vector<std::string> parse_name_list(std::string_view field, std::string_view text);

// The smallest positive value any rate, bandwidth or efficiency may take: below it predictions could overflow.
inline constexpr double kMinPositive = 1e-12;

// The rule a checked number breaks, or "" when it is a finite value in (0, max]: used by file validators.
std::string positive_rule(double value, double max, bool allow_zero = false);

}  // namespace bitscale
