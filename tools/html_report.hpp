// `bitscale report`: one self-contained HTML file (no script, no external file: styles and SVG plots inline) with
// the predictions of a grid and their 90% intervals, the speedup plot, the timeline of one step, what moves its
// step time, the workload, and the cluster profile with the source of every number.
#pragma once
#include <string>
#include <vector>

#include "model/cluster.hpp"
#include "model/workload.hpp"
#include "predictors/predictor.hpp"
#include "predictors/uncertainty.hpp"

namespace bitscale {

struct ReportInput {
  std::string command;  // the command line that made it
  std::string date;     // UTC, YYYY-MM-DD HH:MM
  const Workload* workload = nullptr;
  const ClusterProfile* cluster = nullptr;
  std::vector<Prediction> rows;        // the grid, with intervals
  Prediction detail;                   // one configuration, with its timeline
  std::vector<Elasticity> sensitivity;  // of `detail`
};

std::string html_report(const ReportInput& in);

}  // namespace bitscale
