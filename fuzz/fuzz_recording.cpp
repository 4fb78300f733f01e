// Recording files given to top, top heap, top offcpu, top wall, events and export: anyone
// may hand one over.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "report/events_report.h"
#include "report/export.h"
#include "report/heap_top.h"
#include "report/offcpu_top.h"
#include "report/wall_top.h"
#include "report/top.h"
#include "store/reader.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/hotline-fuzz-recording-" + std::to_string(getpid()) + ".db";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    hotline::RecordingReader reader(path);
    auto report = hotline::cpu_top(reader, {});
    (void)hotline::render_json(report);
    (void)hotline::render_heap_json(hotline::heap_top(reader, {}));
    (void)hotline::render_events_json(hotline::events_report(reader, {}));
    try {
      (void)hotline::render_offcpu_json(hotline::offcpu_top(reader, {}));
      hotline::WallTopOptions by_thread;
      by_thread.by_thread = true;
      (void)hotline::render_wall_text(hotline::wall_top(reader, by_thread), hotline::GroupBy::line);
    } catch (const hotline::Error&) {  // no off-CPU data
    }
    for (auto format : {hotline::ExportFormat::pprof, hotline::ExportFormat::folded}) {
      hotline::ExportOptions options;
      options.format = format;
      (void)hotline::export_recording(reader, options);
    }
  } catch (const hotline::Error&) {
  }
  for (const char* side : {"", "-wal", "-shm", "-journal"}) unlink((path + side).c_str());
  return 0;
}
