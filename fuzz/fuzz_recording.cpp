// Recording files given to top/query: anyone may hand one over.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

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
  } catch (const hotline::Error&) {
  }
  for (const char* side : {"", "-wal", "-shm", "-journal"}) unlink((path + side).c_str());
  return 0;
}
