// Plots as self-contained SVG (no script, no external font or style): what `sweep --plot` and `report` draw.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "predictors/predictor.hpp"

namespace bitscale {

// One line of a plot: its label, its colour (#rrggbb) and its points.
struct PlotSeries {
  std::string label, colour;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in this order
};

// The series of a speedup plot: one per precision (and per bandwidth, compute precision and batch where the rows
// hold more than one), points (GPUs, speedup) by increasing GPUs; each its own colour.
std::vector<PlotSeries> speedup_series(std::span<const Prediction> rows);

// Speedup against GPUs, both axes log-scaled (base 2 for GPUs, 10 for the speedup), a line with markers per series,
// the ideal (speedup = GPUs) dashed, labelled axes, a title and a legend. Rows with one GPU count only still
// draw (as markers). Throws InputError when the rows hold no positive speedup.
std::string speedup_svg(std::span<const Prediction> rows);

// Text for SVG or HTML: &, <, > and " escaped.
std::string xml_escape(const std::string& s);

// The i-th of n distinct colours (#rrggbb): a ten-colour qualitative palette, or for more series hues spread
// evenly, alternating two lightnesses for neighbours.
std::string series_colour(std::size_t i, std::size_t n);

}  // namespace bitscale

namespace bitscale {

// One step of the timeline predictor as a Gantt chart: a lane per stream (compute, codec when used, comm), a bar
// per task coloured by kind, a time axis in ms, a legend. Needs p.timeline (Scenario::record_timeline).
std::string timeline_svg(const Prediction& p);

}  // namespace bitscale
