#pragma once
// `hotline export`: a recording (or a window of it) in the formats other tools read:
// an interactive flame graph (one self-contained HTML page), pprof (gzipped profile.proto:
// go tool pprof, Parca, Pyroscope...), Brendan Gregg's folded stacks (flamegraph.pl,
// inferno, speedscope's import), speedscope's own JSON, and a static SVG flame graph.
#include <string>
#include <vector>

#include "report/top.h"
#include "store/reader.h"

namespace hotline {

enum class ExportFormat { flamegraph, pprof, folded, speedscope, svg };
enum class ExportType { cpu, heap_live, heap_alloc, offcpu, wall };

struct ExportOptions {
  ExportFormat format = ExportFormat::flamegraph;
  ExportType type = ExportType::cpu;
  TimeWindow window;
  std::string filter;  // keep stacks with a frame whose function or file contains this
  bool lines = false;  // flamegraph/folded/speedscope/svg frame names carry file:line
};

// The exported bytes. Throws Error(invalid_args) for a heap export of a recording without
// heap data.
std::string export_recording(const RecordingReader& reader, const ExportOptions& options);

// A differential flame graph page: frames as wide as in NEW, coloured by how their share
// changed from BASE (red grew, blue shrank); the table lists lines by share change.
std::string export_diff_flamegraph(const RecordingReader& base, const RecordingReader& next,
                                   const ExportOptions& options);

// The registry of export formats: the CLI's --format list, help and default file names come
// from it, and so will the agent's reporters. A new format is one entry (and its renderer
// over the stack table in export.cpp).
struct OutputFormat {
  ExportFormat format;
  const char* name;       // --format NAME
  const char* extension;  // file name suffix; "" for text that may go to a terminal
  const char* summary;    // for --help
};
const std::vector<OutputFormat>& output_formats();
const OutputFormat& output_format(ExportFormat format);

// Throws Error(invalid_args) naming the formats there are.
ExportFormat parse_export_format(const std::string& name);
ExportType parse_export_type(const std::string& name);

}  // namespace hotline
