#include "tools/codec_commands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "calibrate/host_bench.hpp"
#include "kernels/codec.hpp"
#include "kernels/codec_cuda.hpp"
#include "kernels/cuda_device.hpp"
#include "kernels/error_stats.hpp"
#include "kernels/input_error.hpp"
#include "model/parse.hpp"
#include "tools/gradient_file.hpp"
#include "tools/report.hpp"

namespace bitscale {

namespace {

CodecOptions parse_options(const CodecCommands& c) {
  CodecOptions o;
  if (c.rounding == "stochastic") {
    o.rounding = Rounding::stochastic;
  } else if (c.rounding != "nearest") {
    throw InputError("", "--rounding", c.rounding, "valid: nearest, stochastic");
  }
  o.seed = static_cast<std::uint64_t>(parse_int("--seed", c.seed, 0, std::numeric_limits<std::int64_t>::max()));
  o.ranks = parse_int("--ranks", c.ranks, 1, kMaxGpus);
  return o;
}

void require_gpu() {
  if (!cuda_available()) {
    throw InputError("", "--gpu", "", cuda_compiled() ? "no CUDA device is present" : "bitscale was built without CUDA");
  }
}

int cmd_list(std::ostream& out) {
  // error on gradient-like data: 2^16 values, per-block scales from 1e-8 to 1, zeros and subnormals
  const auto x = gradient_like(1 << 16, 1);
  out << fmt::format("{:<11} {:>10} {:>9} {:>4} {:>12} {:>14}  {}\n", "name", "bits/value", "summable", "aps",
                     "rel RMS err", "max err/absmax", "format");
  for (const auto& f : wire_formats()) {
    const auto e = codec_error(f, x);
    out << fmt::format("{:<11} {:>10.3f} {:>9} {:>4} {:>12.3e} {:>14.3e}  {}\n", f.name, f.bits_per_value(),
                       f.summable ? "yes" : "no", f.aps ? "yes" : "no", e.relative_rms, e.max_error_vs_absmax,
                       f.description);
  }
  out << "Also: eXmY custom floats (1..8 exponent bits, 0..23 mantissa bits), APS-scaled, summable.\n"
         "Errors: round trip on 65,536 gradient-like values (bitscale::gradient_like, seed 1) against fp64.\n";
  return 0;
}

int cmd_bench(const CodecCommands& c, std::ostream& out, std::ostream& err) {
  const auto sizes = [&] {
    std::vector<double> s;
    for (const auto& item : parse_name_list("--sizes", c.sizes)) s.push_back(parse_bytes("--sizes", item, 4e9));
    return s;
  }();
  const int runs = static_cast<int>(parse_int("--runs", c.runs, c.gpu ? 20 : 1, 1000));
  std::vector<WireFormat> formats;
  if (c.codec.empty()) {
    formats.assign(wire_formats().begin(), wire_formats().end());
  } else {
    for (const auto& n : parse_name_list("--codec", c.codec)) formats.push_back(find_wire_format(n, "--codec"));
  }
  if (c.gpu) require_gpu();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  // one gradient-like input (random magnitudes, signs, zeros and subnormals), the smaller sizes its prefixes
  std::size_t largest = 0;
  for (double size : sizes) {
    const auto n = static_cast<std::size_t>(size / 4);
    if (n == 0) throw InputError("", "--sizes", format_value(size), "must be at least 4 bytes (one fp32 value)");
    largest = std::max(largest, n);
  }
  if (tty) err << fmt::format("  generating {} gradient-like values ...", largest) << std::flush;
  const auto input = gradient_like(largest, 7);
  if (tty) err << "\r" << std::string(60, ' ') << "\r" << std::flush;
  out << fmt::format("{} codecs, median of {} runs on gradient-like data; GB/s counts bytes read + written; ratio to "
                     "a {} copy of the fp32 input (read + written){}\n",
                     c.gpu ? "CUDA (" + cuda_device_name() + ")" : "CPU, one thread", runs,
                     c.gpu ? "device-to-device" : "memcpy",
                     c.gpu ? "; cpu: the timed encode's wire and its decode against the CPU codec, byte for byte" : "");
  out << fmt::format("{:>10} {:<11} {:>11} {:>7} {:>11} {:>7} {:>11} {:>7} {:>10}{}\n", "size", "codec", "encode GB/s",
                     "ratio", "decode GB/s", "ratio", "accum GB/s", "ratio", "copy GB/s", c.gpu ? "  cpu" : "");
  bool all_match = true;
  for (double size : sizes) {
    const auto n = static_cast<std::size_t>(size / 4);
    const std::span<const float> x(input.data(), n);
    std::vector<float> y(c.gpu ? 0 : n);
    double copy_s = 0;
    if (!c.gpu) copy_s = median_seconds(runs, [&] { std::memcpy(y.data(), x.data(), 4 * n); });
    for (const auto& f : formats) {
      if (tty) err << fmt::format("\r  {} {:.0f} bytes ...", f.name, size) << std::flush;
      double enc = 0, dec = 0, acc = 0;
      std::string check;
      const double wire = static_cast<double>(wire_size(f, n));
      if (c.gpu) {
        const auto t = time_codec_cuda(f, x, runs);
        enc = t.encode_s;
        dec = t.decode_s;
        acc = t.accumulate_s;
        copy_s = t.copy_s;
        const bool match = t.encode_matches_cpu && t.decode_matches_cpu;
        check = match ? "  same" : "  DIFFERS";
        all_match = all_match && match;
      } else {
        std::vector<std::byte> w(wire_size(f, n));
        enc = median_seconds(runs, [&] { encode_cpu(f, x, w); });
        dec = median_seconds(runs, [&] { decode_cpu(f, w, y); });
        acc = median_seconds(runs, [&] { decode_accumulate_cpu(f, w, y); });
      }
      const auto n_bytes = 4.0 * static_cast<double>(n);
      const double copy_rate = 2.0 * n_bytes / copy_s;
      const double enc_rate = (n_bytes + wire) / enc;
      const double dec_rate = (n_bytes + wire) / dec;
      const double acc_rate = (2.0 * n_bytes + wire) / acc;  // wire and fp32 read, fp32 written
      if (tty) err << "\r" << std::string(40, ' ') << "\r" << std::flush;
      out << fmt::format("{:>10.0f} {:<11} {:>11.2f} {:>7.3f} {:>11.2f} {:>7.3f} {:>11.2f} {:>7.3f} {:>10.2f}{}\n", size,
                         f.name, enc_rate / 1e9, enc_rate / copy_rate, dec_rate / 1e9, dec_rate / copy_rate,
                         acc_rate / 1e9, acc_rate / copy_rate, copy_rate / 1e9, check)
          << std::flush;
    }
  }
  if (!all_match) {
    err << "bitscale: a CUDA codec's bytes differ from the CPU codec's (DIFFERS above): its figures do not count\n";
    return 1;
  }
  return 0;
}

int cmd_encode(const CodecCommands& c, std::ostream& err) {
  const auto f = find_wire_format(c.codec, "--codec");
  const auto o = parse_options(c);
  if (c.gpu) require_gpu();
  const auto x = read_gradients(c.in, "--in");
  const auto wire = c.gpu ? encode_cuda(f, x, o) : encode_cpu(f, x, o);
  write_file_atomically(c.out, std::string_view(reinterpret_cast<const char*>(wire.data()), wire.size()), "--out");
  err << fmt::format("bitscale: {} values -> {} bytes of {} ({:.3f} bits/value) in {}\n", x.size(), wire.size(),
                     f.name, 8.0 * static_cast<double>(wire.size()) / static_cast<double>(x.size()), c.out);
  return 0;
}

int cmd_decode(const CodecCommands& c, std::ostream& err) {
  const auto f = find_wire_format(c.codec, "--codec");
  if (c.gpu) require_gpu();
  const auto wire = read_binary(c.in, "--in");
  if (wire.empty()) throw InputError("", "--in", c.in, "holds no values");
  try {
    values_in_wire(f, wire.size());  // a malformed size is an InputError before anything else
  } catch (const InputError& e) {
    throw InputError("", "--in", c.in, fmt::format("is not a {} wire file ({})", f.name, e.what()));
  }
  const auto y = c.gpu ? decode_cuda(f, wire) : decode_cpu(f, wire);
  write_gradients(c.out, y, "--out");
  err << fmt::format("bitscale: {} bytes of {} -> {} values in {}\n", wire.size(), f.name, y.size(), c.out);
  return 0;
}

int cmd_error(const CodecCommands& c, std::ostream& out) {
  const auto x = read_gradients(c.in, "--in");
  const auto o = parse_options(c);
  std::vector<WireFormat> formats;
  if (c.codec.empty() || c.codec == "all") {
    formats.assign(wire_formats().begin(), wire_formats().end());
  } else {
    for (const auto& n : parse_name_list("--codec", c.codec)) formats.push_back(find_wire_format(n, "--codec"));
  }
  const auto format = parse_format(c.format);
  std::vector<std::vector<Field>> rows;
  for (const auto& f : formats) {
    const auto e = codec_error(f, x, o);
    rows.push_back({{"codec", f.name},
                    {"values", static_cast<std::int64_t>(e.values)},
                    {"bits_per_value", 8.0 * static_cast<double>(wire_size(f, x.size())) / static_cast<double>(x.size())},
                    {"relative_rms_error", e.relative_rms},
                    {"max_abs_error", e.max_abs_error},
                    {"max_error_vs_absmax", e.max_error_vs_absmax},
                    {"max_relative_error", e.max_relative_error},
                    {"nonfinite_in", static_cast<std::int64_t>(e.nonfinite_in)},
                    {"nonfinite_out", static_cast<std::int64_t>(e.nonfinite_out)}});
  }
  if (format == Format::json) {
    write_json(out, rows);
  } else if (format == Format::csv) {
    write_csv(out, rows);
  } else {
    out << fmt::format("{} values from {}\n", x.size(), c.in);
    out << fmt::format("{:<11} {:>10} {:>12} {:>12} {:>14} {:>12} {:>10}\n", "codec", "bits/value", "rel RMS err",
                       "max abs err", "max err/absmax", "max rel err", "nonfinite");
    for (const auto& r : rows) {
      out << fmt::format("{:<11} {:>10.3f} {:>12.3e} {:>12.3e} {:>14.3e} {:>12.3e} {:>10}\n",
                         std::get<std::string>(r[0].value), std::get<double>(r[2].value), std::get<double>(r[3].value),
                         std::get<double>(r[4].value), std::get<double>(r[5].value), std::get<double>(r[6].value),
                         std::get<std::int64_t>(r[8].value));
    }
  }
  return 0;
}

}  // namespace

void add_codec_commands(CLI::App* codec, CodecCommands& c) {
  c.list = codec->add_subcommand("list", "codecs: bits per value with metadata, summable or gathered, error");
  c.bench = codec->add_subcommand("bench", "encode, decode and decompress-accumulate throughput against a plain copy");
  c.bench->add_flag("--gpu", c.gpu, "time the CUDA kernels (CUDA events) instead of the CPU");
  c.bench->add_option("--sizes", c.sizes, "fp32 input sizes (LIST of SIZE)")->capture_default_str();
  c.bench->add_option("--runs", c.runs, "timed runs per measurement (median; >= 20 with --gpu)")->capture_default_str();
  c.bench->add_option("--codec", c.codec, "codecs (LIST; default all)");

  auto add_common = [&](CLI::App* cmd, const char* in_help, const char* out_help) {
    cmd->add_option("--codec", c.codec, "codec name (see `codec list`)")->required();
    cmd->add_option("--in", c.in, in_help)->required();
    if (out_help != nullptr) cmd->add_option("--out", c.out, out_help)->required();
  };
  c.encode = codec->add_subcommand("encode", "gradients (raw fp32 or .npy) to the codec's wire format");
  add_common(c.encode, "gradients: raw little-endian fp32 or .npy float32", "wire file (written atomically)");
  c.encode->add_option("--rounding", c.rounding, "nearest or stochastic")->capture_default_str();
  c.encode->add_option("--seed", c.seed, "seed of stochastic rounding")->capture_default_str();
  c.encode->add_option("--ranks", c.ranks, "APS headroom: ranks whose gradients will be summed")->capture_default_str();
  c.encode->add_flag("--gpu", c.gpu, "encode with the CUDA kernels");
  c.decode = codec->add_subcommand("decode", "a wire file back to fp32 (.npy if --out ends in .npy, else raw)");
  add_common(c.decode, "wire file", "gradients out (written atomically)");
  c.decode->add_flag("--gpu", c.gpu, "decode with the CUDA kernels");
  c.error = codec->add_subcommand("error", "error of codecs on your own gradients, against fp64");
  c.error->add_option("--codec", c.codec, "codecs (LIST, or all; default all)");
  c.error->add_option("--in", c.in, "gradients: raw little-endian fp32 or .npy float32")->required();
  c.error->add_option("--rounding", c.rounding, "nearest or stochastic")->capture_default_str();
  c.error->add_option("--seed", c.seed, "seed of stochastic rounding")->capture_default_str();
  c.error->add_option("--ranks", c.ranks, "APS headroom")->capture_default_str();
  c.error->add_option("--format,-f", c.format, "table, json or csv")->capture_default_str();
}

int run_codec_command(const CodecCommands& c, std::ostream& out, std::ostream& err) {
  if (c.list->parsed()) return cmd_list(out);
  if (c.bench->parsed()) return cmd_bench(c, out, err);
  if (c.encode->parsed()) return cmd_encode(c, err);
  if (c.decode->parsed()) return cmd_decode(c, err);
  if (c.error->parsed()) return cmd_error(c, out);
  return -1;
}

}  // namespace bitscale
