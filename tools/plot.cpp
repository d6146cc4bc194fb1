#include "tools/plot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "kernels/input_error.hpp"

namespace bitscale {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    // control characters are not allowed in XML 1.0 (a profile's name could hold one): a space instead
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      out += ' ';
      continue;
    }
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// a number as an axis label: 1024, 0.5, 1e+06 only beyond six digits
std::string tick_label(double v) {
  if (v >= 1 && v < 1e6 && std::abs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
  return fmt::format("{:g}", v);
}

}  // namespace

std::string series_colour(std::size_t i, std::size_t n) {
  // up to ten series: a qualitative palette made to be told apart (Tableau 10); beyond, hues spread evenly
  constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  if (n <= std::size(kPalette)) return kPalette[i];
  // HSL with S = 0.75, L alternating 0.38 / 0.52: distinct on white, and exact colours a test can find in pixels
  const double h = 360.0 * static_cast<double>(i) / static_cast<double>(std::max<std::size_t>(n, 1));
  const double s = 0.75, l = i % 2 == 0 ? 0.38 : 0.52;
  const double c = (1 - std::abs(2 * l - 1)) * s;
  const double x = c * (1 - std::abs(std::fmod(h / 60.0, 2.0) - 1));
  const double m = l - c / 2;
  double r = 0, g = 0, b = 0;
  if (h < 60) r = c, g = x;
  else if (h < 120) r = x, g = c;
  else if (h < 180) g = c, b = x;
  else if (h < 240) g = x, b = c;
  else if (h < 300) r = x, b = c;
  else r = c, b = x;
  auto byte = [&](double v) { return static_cast<int>(std::lround(255.0 * (v + m))); };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b));
}

std::vector<PlotSeries> speedup_series(std::span<const Prediction> rows) {
  std::set<double> bandwidths;
  std::set<std::string> computes;
  std::set<std::int64_t> batches;
  for (const auto& p : rows) {
    bandwidths.insert(p.bandwidth_gbps);
    computes.insert(p.compute);
    batches.insert(p.batch);
  }
  std::vector<PlotSeries> out;
  std::map<std::string, std::size_t> index;
  for (const auto& p : rows) {
    std::string label = p.precision;
    if (computes.size() > 1) label += ", compute " + p.compute;
    if (bandwidths.size() > 1) label += fmt::format(", {:g} Gb/s", p.bandwidth_gbps);
    if (batches.size() > 1) label += fmt::format(", batch {}", p.batch);
    auto [it, added] = index.emplace(label, out.size());
    if (added) out.push_back({label, "", {}});
    out[it->second].points.emplace_back(static_cast<double>(p.gpus), p.speedup);
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].colour = series_colour(i, out.size());
    std::stable_sort(out[i].points.begin(), out[i].points.end());  // by GPUs, whatever order the list gave
  }
  return out;
}

std::string speedup_svg(std::span<const Prediction> rows) {
  const auto series = speedup_series(rows);
  double x_lo = INFINITY, x_hi = 0, y_lo = INFINITY, y_hi = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      if (!(y > 0) || !std::isfinite(y)) continue;
      x_lo = std::min(x_lo, x);
      x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, y);
      y_hi = std::max(y_hi, y);
    }
  }
  if (!(x_hi > 0)) throw InputError("", "--plot", "", "no configuration has a positive speedup to plot");
  // the ideal line spans the GPU counts, so the speedup axis covers them too
  y_lo = std::min(y_lo, x_lo);
  y_hi = std::max(y_hi, x_hi);
  const double lx0 = std::floor(std::log2(x_lo)), lx1 = std::max(lx0 + 1, std::ceil(std::log2(x_hi)));
  const double ly0 = std::floor(std::log10(y_lo) * 2) / 2, ly1 = std::max(ly0 + 0.5, std::ceil(std::log10(y_hi) * 2) / 2);

  constexpr double kW = 860, kH = 520, kLeft = 78, kRight = 250, kTop = 48, kBottom = 62;
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (std::log2(x) - lx0) / (lx1 - lx0) * pw; };
  auto py = [&](double y) { return kTop + ph - (std::log10(y) - ly0) / (ly1 - ly0) * ph; };

  std::ostringstream o;
  o << fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} "
                   "{1:.0f}\" font-family=\"sans-serif\" font-size=\"12\">\n",
                   kW, kH);
  o << fmt::format("<rect width=\"{:.0f}\" height=\"{:.0f}\" fill=\"#ffffff\"/>\n", kW, kH);
  const auto& first = rows.front();
  o << fmt::format("<text x=\"{:.1f}\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2,
                   xml_escape(fmt::format("{} on {}: speedup over one GPU (same precision), predictor {}",
                                          first.workload, first.cluster, first.predictor)));
  // grid and ticks
  const double x_step = lx1 - lx0 > 12 ? 2 : 1;
  for (double e = lx0; e <= lx1 + 1e-9; e += x_step) {
    const double x = px(std::exp2(e));
    o << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e0e0e0\"/>\n", x, kTop,
                     kTop + ph);
    o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x, kTop + ph + 18,
                     tick_label(std::exp2(e)));
  }
  for (double e = std::ceil(ly0); e <= ly1 + 1e-9; e += 1) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      if (std::log10(v) < ly0 - 1e-9 || std::log10(v) > ly1 + 1e-9) continue;
      const double y = py(v);
      o << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\"/>\n", kLeft, y,
                       kLeft + pw, m == 1.0 ? "#d0d0d0" : "#efefef");
      o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6, y + 4, tick_label(v));
    }
  }
  // a decade below the first full one (the axis may start at 10^-0.5)
  if (std::ceil(ly0) > ly0) {
    const double v = std::pow(10.0, std::ceil(ly0) - 1) * 5;
    if (std::log10(v) >= ly0) {
      o << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#efefef\"/>\n", kLeft,
                       py(v), kLeft + pw);
      o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6, py(v) + 4,
                       tick_label(v));
    }
  }
  o << fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#000000\"/>\n",
                   kLeft, kTop, pw, ph);
  o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">GPUs (log scale)</text>\n", kLeft + pw / 2,
                   kH - 18);
  o << fmt::format("<text transform=\"translate(20 {:.1f}) rotate(-90)\" text-anchor=\"middle\">speedup over one GPU "
                   "(log scale)</text>\n",
                   kTop + ph / 2);
  // the series
  for (const auto& s : series) {
    std::string path;
    for (const auto& [x, y] : s.points) {
      if (!(y > 0) || !std::isfinite(y)) continue;
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "" : " ", px(x), py(y));
    }
    if (path.empty()) continue;
    o << fmt::format("<g><title>{}</title>\n", xml_escape(s.label));
    o << fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"/>\n", path, s.colour);
    for (const auto& [x, y] : s.points) {
      if (!(y > 0) || !std::isfinite(y)) continue;
      o << fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/>\n", px(x), py(y), s.colour);
    }
    o << "</g>\n";
  }
  // the ideal line, clipped to the plot, over the series (they hug it)
  const double ideal_lo = std::max(std::exp2(lx0), std::pow(10.0, ly0)),
               ideal_hi = std::min(std::exp2(lx1), std::pow(10.0, ly1));
  o << fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#000000\" "
                   "stroke-dasharray=\"6 4\" stroke-width=\"1.2\"/>\n",
                   px(ideal_lo), py(ideal_lo), px(ideal_hi), py(ideal_hi));
  // the legend
  double ly = kTop + 10;
  const double lx = kLeft + pw + 18;
  o << fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#000000\" "
                   "stroke-dasharray=\"6 4\"/>\n",
                   lx, ly, lx + 26, ly);
  o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">ideal (speedup = GPUs)</text>\n", lx + 32, ly + 4);
  for (const auto& s : series) {
    ly += 20;
    o << fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2.5\"/>\n",
                     lx, ly, lx + 26, ly, s.colour);
    o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", lx + 32, ly + 4, xml_escape(s.label));
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace bitscale

namespace bitscale {

std::string timeline_svg(const Prediction& p) {
  if (!p.timeline) throw InputError("", "timeline", "", "the prediction holds no timeline (timeline predictor only)");
  const auto tasks = p.timeline->graph.tasks();
  bool codec_lane = false;
  double end = 0;
  for (const auto& t : tasks) {
    codec_lane = codec_lane || t.stream == Stream::codec;
    end = std::max(end, t.end_s);
  }
  if (!(end > 0)) end = 1e-6;
  std::vector<Stream> lanes{Stream::compute};
  if (codec_lane) lanes.push_back(Stream::codec);
  lanes.push_back(Stream::comm);
  constexpr double kW = 900, kLeft = 80, kRight = 20, kTop = 40, kLane = 34, kGap = 10;
  const double pw = kW - kLeft - kRight;
  const double height = kTop + static_cast<double>(lanes.size()) * (kLane + kGap) + 80;
  auto x = [&](double s) { return kLeft + s / end * pw; };
  // a colour per task kind, fixed
  auto colour = [](TaskKind k) {
    switch (k) {
      case TaskKind::forward: return "#4c78a8";
      case TaskKind::backward: return "#72b7b2";
      case TaskKind::optimizer: return "#54a24b";
      case TaskKind::absmax:
      case TaskKind::encode: return "#f58518";
      case TaskKind::decode: return "#e45756";
      case TaskKind::scale_allreduce: return "#b279a2";
      case TaskKind::allreduce: return "#9d755d";
      case TaskKind::gather: return "#bab0ac";
      case TaskKind::launch: return "#3b3b3b";
    }
    return "#000000";
  };
  std::ostringstream o;
  o << fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" viewBox=\"0 0 {0:.0f} "
                   "{1:.0f}\" font-family=\"sans-serif\" font-size=\"12\">\n",
                   kW, height);
  o << fmt::format("<rect width=\"{:.0f}\" height=\"{:.0f}\" fill=\"#ffffff\"/>\n", kW, height);
  o << fmt::format("<text x=\"{:.1f}\" y=\"22\" font-size=\"14\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2,
                   xml_escape(fmt::format("one step of {} on {} x {}, {} gradients: {:.3f} ms", p.workload, p.gpus,
                                          p.cluster, p.precision, p.step_time_s * 1e3)));
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    const double y = kTop + static_cast<double>(l) * (kLane + kGap);
    o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 8, y + kLane / 2 + 4,
                     name(lanes[l]));
    o << fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"#f4f4f4\"/>\n", kLeft, y,
                     pw, kLane);
    for (const auto& t : tasks) {
      if (t.stream != lanes[l] || !(t.end_s > t.start_s)) continue;
      o << fmt::format("<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\" fill=\"{}\" stroke=\"#ffffff\" "
                       "stroke-width=\"0.3\"><title>{} {:.3f} .. {:.3f} ms</title></rect>\n",
                       x(t.start_s), y + 3, std::max(0.5, x(t.end_s) - x(t.start_s)), kLane - 6, colour(t.kind),
                       xml_escape(std::string(name(t.kind)) +
                                  (t.layer >= 0 ? fmt::format(" layer {}", t.layer + p.timeline->layer_offset) : "") +
                                  (t.bucket >= 0 ? fmt::format(" bucket {}", t.bucket) : "")),
                       t.start_s * 1e3, t.end_s * 1e3);
    }
  }
  const double axis = kTop + static_cast<double>(lanes.size()) * (kLane + kGap);
  o << fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#000000\"/>\n", kLeft, axis,
                   kLeft + pw, axis);
  // ticks at a 1-2-5 step giving 5..10 ticks
  const double raw = end * 1e3 / 8;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw / mag < 2 ? 2 * mag : raw / mag < 5 ? 5 * mag : 10 * mag;
  for (double t = 0; t <= end * 1e3 + 1e-9; t += step) {
    o << fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#000000\"/>\n",
                     x(t / 1e3), axis, axis + 5);
    o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g}</text>\n", x(t / 1e3), axis + 18, t);
  }
  o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">time from the start of the step (ms)</text>\n",
                   kLeft + pw / 2, axis + 36);
  double lx = kLeft;
  // the kinds this step holds, in a fixed order
  std::vector<TaskKind> legend;
  for (auto k : {TaskKind::forward, TaskKind::backward, TaskKind::encode, TaskKind::allreduce, TaskKind::gather,
                 TaskKind::decode, TaskKind::scale_allreduce, TaskKind::optimizer, TaskKind::launch}) {
    if (std::any_of(tasks.begin(), tasks.end(), [k](const Task& t) { return t.kind == k && t.end_s > t.start_s; })) {
      legend.push_back(k);
    }
  }
  for (auto k : legend) {
    o << fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"12\" height=\"12\" fill=\"{}\"/>\n", lx, axis + 48,
                     colour(k));
    o << fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", lx + 16, axis + 58, name(k));
    lx += 16 + 8.0 * static_cast<double>(name(k).size()) + 14;
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace bitscale
