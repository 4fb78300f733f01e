// The live view's cost per refresh as a recording grows: replays a recording checkpoint by
// checkpoint into a new file and, after each, times what the view does on a refresh: the
// model read incrementally (ViewModel::update + view, today) against a full re-read
// (load_view on a fresh reader: what every refresh did before). Prints both at a few points
// and the ratio.
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "store/reader.h"
#include "store/sample_types.h"
#include "store/writer.h"
#include "tui/model.h"
#include "util/files.h"

using namespace hotline;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: live_view_bench RECORDING SCRATCH.db\n");
    return 2;
  }
  RecordingReader source(argv[1]);
  const std::string out = argv[2];
  create_private_file(out, true);
  RecordingWriter w(out);
  for (const char* key : {"process_name", "pids", "cpu_frequency_hz", "heap_mode", "interval_ms"}) {
    w.set_meta(key, source.meta_or(key));
  }
  // The stack tree up front (ids ascending: parents first).
  std::map<std::int64_t, std::int64_t> module, location, frame, node;
  for (const auto& [id, m] : std::map(source.modules().begin(), source.modules().end())) {
    module[id] = w.module_id(m.path, m.build_id);
  }
  const auto locations = source.locations();
  for (const auto& [id, l] : std::map(locations.begin(), locations.end())) {
    location[id] = w.location_id(module[l.module_id], l.address);
  }
  const auto frames = source.frames();
  for (const auto& [id, f] : std::map(frames.begin(), frames.end())) {
    frame[id] = w.frame_id({f.function, f.file, f.line, f.inline_depth, module[f.module_id]});
  }
  const auto stacks = source.stacks();
  for (const auto& [id, s] : std::map(stacks.begin(), stacks.end())) {
    node[id] = w.stack_node(s.parent == 0 ? 0 : node[s.parent], frame[s.frame_id], location[s.location_id]);
  }
  const std::int64_t cpu = w.sample_type(sample_types::cpu), ab = w.sample_type(sample_types::heap_alloc_bytes),
                     ac = w.sample_type(sample_types::heap_alloc_count), fb = w.sample_type(sample_types::heap_free_bytes),
                     fc = w.sample_type(sample_types::heap_free_count);

  const auto checkpoints = source.checkpoints();
  const std::size_t n = checkpoints.size();
  std::printf("%zu checkpoints, %zu stack nodes, %zu frames\n", n, stacks.size(), frames.size());
  std::printf("%12s %14s %14s %8s\n", "checkpoint", "incremental ms", "full re-read ms", "ratio");
  ViewModel model;
  double total_incremental = 0, total_full = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t id = w.begin_checkpoint(checkpoints[i].ms);
    for (const CpuSampleRow& r : source.cpu_samples({checkpoints[i].id})) {
      const SampleValue v{cpu, r.count};
      w.add_sample(id, node[r.stack], static_cast<pid_t>(r.pid), static_cast<pid_t>(r.tid), {&v, 1});
    }
    for (const auto& [leaf, h] : source.heap_counts({checkpoints[i].id})) {
      const SampleValue v[] = {{ab, static_cast<std::uint64_t>(h.alloc_bytes)},
                               {ac, static_cast<std::uint64_t>(h.alloc_count)},
                               {fb, static_cast<std::uint64_t>(h.free_bytes)},
                               {fc, static_cast<std::uint64_t>(h.free_count)}};
      w.add_sample(id, node[leaf], 1, 0, v);
    }
    w.commit_checkpoint();

    auto t = Clock::now();
    {
      RecordingReader reader(out);  // the view opens the file at each refresh
      model.update(reader);
      (void)model.view({});
    }
    const double incremental = ms_since(t);
    t = Clock::now();
    {
      RecordingReader reader(out);
      (void)load_view(reader, {});
    }
    const double full = ms_since(t);
    total_incremental += incremental;
    total_full += full;
    const std::size_t k = i + 1;
    if (k == 1 || k == 10 || k % (n / 10 > 0 ? n / 10 : 1) == 0 || k == n) {
      std::printf("%12zu %14.2f %14.2f %7.1fx\n", k, incremental, full, full / std::max(incremental, 1e-3));
    }
  }
  std::printf("total over %zu refreshes: incremental %.0f ms, full re-read %.0f ms (%.1fx)\n", n, total_incremental,
              total_full, total_full / std::max(total_incremental, 1e-3));
  return 0;
}
