// The registry of export formats: every entry parses back from its name and renders a real
// recording into what its extension promises.
#include <gtest/gtest.h>

#include <set>

#include "report/export.h"
#include "store/reader.h"
#include "util/error.h"

namespace hotline {
namespace {

TEST(OutputFormats, EveryRegisteredFormatParsesAndRenders) {
  RecordingReader reader(std::string(FIXTURE_SRC_DIR) + "/recordings/v2-cpu.db");
  std::set<std::string> names;
  for (const OutputFormat& f : output_formats()) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name << " registered twice";
    EXPECT_EQ(parse_export_format(f.name), f.format);
    EXPECT_EQ(output_format(f.format).name, std::string(f.name));
    ExportOptions options;
    options.format = f.format;
    const std::string bytes = export_recording(reader, options);
    ASSERT_GT(bytes.size(), 20u) << f.name;
    const std::string ext = f.extension;
    if (ext == ".pb.gz") {
      EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x1f) << "gzip";
      EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x8b) << "gzip";
    } else if (ext == ".html") {
      EXPECT_NE(bytes.find("<html"), std::string::npos);
    } else if (ext == ".svg") {
      EXPECT_NE(bytes.find("<svg"), std::string::npos);
    } else {
      EXPECT_TRUE(ext.empty()) << f.name;
      EXPECT_NE(bytes.find("checksum"), std::string::npos) << f.name << ": text formats name the frames";
    }
  }
  EXPECT_EQ(names.size(), 5u);
  try {
    parse_export_format("perf-script");
    ADD_FAILURE() << "an unknown format was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::invalid_args);
    for (const std::string& n : names) EXPECT_NE(e.remedy().find(n), std::string::npos) << e.remedy();
  }
}

}  // namespace
}  // namespace hotline
