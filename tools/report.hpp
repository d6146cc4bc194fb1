// Report writers, one per format (table, CSV, JSON), over one ordered list of fields per prediction so the
// JSON keys, the CSV columns and the table agree. Files are written atomically (temporary name, then rename).
#pragma once
#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "predictors/predictor.hpp"

namespace bitscale {

using FieldValue = std::variant<std::string, std::int64_t, double, bool>;
struct Field {
  std::string_view name;
  FieldValue value;
};

std::vector<Field> prediction_fields(const Prediction& p);

// A whole number with its thousands grouped, 25557032 -> "25,557,032"; a double rounded first, -1234.6 -> "-1,235".
std::string group_digits(std::int64_t v);
std::string group_digits(double v);

enum class Format { table, json, csv };
Format parse_format(std::string_view text);

void write_csv(std::ostream& out, std::span<const std::vector<Field>> rows);
void write_json(std::ostream& out, std::span<const std::vector<Field>> rows);  // one object, or an array
void write_prediction_table(std::ostream& out, const Prediction& p);
void write_predictions_table(std::ostream& out, std::span<const Prediction> rows);

// Writes `text` to `path` through a temporary file in the same directory and a rename, so a reader never sees
// half a file. A missing directory or a directory given as the path is an InputError naming `field`.
void write_file_atomically(const std::string& path, std::string_view text, std::string_view field);
// The same, with the content streamed by `write` (an exception from it removes the temporary file).
void write_file_atomically(const std::string& path, std::string_view field,
                           const std::function<void(std::ostream&)>& write);

// CSV of predictions, row by row (the same columns as write_csv over prediction_fields; the header from the first
// row: with its interval columns when it has an interval).
void write_predictions_csv(std::ostream& out, std::span<const Prediction> rows, bool header = true);
// The header alone, with or without the interval columns (step_time_low_s, step_time_high_s,
// throughput_low_samples_per_s, throughput_high_samples_per_s).
void write_predictions_csv_header(std::ostream& out, bool intervals);
// The checks write_file_atomically makes before writing (a name, not a directory, an existing directory...).
void check_output_path(const std::string& path, std::string_view field);

// A relative path named inside `file` (a run CSV naming data/workloads/..., say): as given when it exists from
// the working directory, else from `file`'s directory or the nearest one above it where it exists; else as given.
std::string find_beside(const std::string& path, const std::string& file);

}  // namespace bitscale
