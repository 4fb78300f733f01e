#pragma once
// The sample pipeline: what every collector's drained stack samples become in the
// recording. Each address is symbolized (once: the symbolizer caches), its inline chain
// becomes stack nodes of the prefix tree (frames, locations and modules interned, with the
// module's executable segments), and the sample's values are written with their types' ids
// in one writer call. Independent of the kernel: replay tests feed it samples directly.
#include <cstdint>
#include <string>
#include <vector>

#include "collect/collector.h"
#include "store/writer.h"
#include "symbolize/symbolizer.h"

namespace hotline {

class SamplePipeline {
 public:
  SamplePipeline(RecordingWriter& writer, Symbolizer& symbolizer) : writer_(writer), symbolizer_(symbolizer) {}

  // Registers a source of samples (a collector) by its sample types; returns its number.
  std::size_t add_source(const std::vector<SampleType>& types);
  // Writes one drain of source `source` into checkpoint `checkpoint` (whose transaction is
  // open). Samples whose values do not match the declared types are dropped. Returns the
  // CPU samples written (the source's first type is `cpu`), else 0.
  std::uint64_t write(std::int64_t checkpoint, std::size_t source, const std::vector<StackSample>& samples);
  // The leaf node of a sample's stack, interned.
  std::int64_t stack_for(const StackSample& sample);

 private:
  std::int64_t push_address(std::int64_t parent, const ResolvedAddress& resolved);
  std::int64_t push_synthetic(std::int64_t parent, const std::string& name);
  std::string stop_frame(const StackSample& sample);

  RecordingWriter& writer_;
  Symbolizer& symbolizer_;
  std::vector<std::vector<SampleValue>> values_;  // per source: type ids, values filled per sample
  std::vector<bool> counts_cpu_;                  // per source: its first value is CPU samples
};

}  // namespace hotline
