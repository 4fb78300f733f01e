#pragma once
// `hotline diff BASE NEW`: the lines (functions, files) whose share of the profile changed
// most between two recordings: CPU self share (total share alongside), or the share of live
// or allocated heap bytes.
#include <string>
#include <vector>

#include "report/export.h"
#include "report/top.h"
#include "store/reader.h"

namespace hotline {

struct DiffOptions {
  ExportType type = ExportType::cpu;
  GroupBy by = GroupBy::line;
  std::size_t top = 20;
  std::string filter;
};

struct DiffEntry {
  double base_pct = 0, new_pct = 0;              // cpu: self share; heap: share of the metric
  double base_total_pct = 0, new_total_pct = 0;  // cpu only: total (on-stack) share
  std::string function, file;
  int line = 0;
  double delta() const { return new_pct - base_pct; }
};

struct DiffReport {
  std::string base_file, new_file, type;
  std::int64_t base_total = 0, new_total = 0;  // samples, or bytes
  std::vector<DiffEntry> entries;              // largest |delta| first
};

DiffReport diff_recordings(const RecordingReader& base, const RecordingReader& next, const DiffOptions& options);

std::string render_diff_text(const DiffReport& report, GroupBy by);
std::string render_diff_json(const DiffReport& report);
std::string render_diff_csv(const DiffReport& report);

}  // namespace hotline
