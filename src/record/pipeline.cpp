#include "record/pipeline.h"

#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

namespace hotline {

std::size_t SamplePipeline::add_source(const std::vector<SampleType>& types) {
  std::vector<SampleValue> values;
  for (const SampleType& t : types) values.push_back({writer_.sample_type(t), 0});
  counts_cpu_.push_back(!types.empty() && std::string_view(types.front().name) == sample_types::cpu.name);
  values_.push_back(std::move(values));
  return values_.size() - 1;
}

std::uint64_t SamplePipeline::write(std::int64_t checkpoint, std::size_t source, const std::vector<StackSample>& samples) {
  std::vector<SampleValue>& values = values_.at(source);
  std::uint64_t cpu = 0;
  // Within one drain the same stack of the same process resolves to the same node: the
  // threads of a process share their stacks (10,000 threads sleeping at one line are one
  // resolution, not 10,000).
  std::unordered_map<std::string, std::int64_t> resolved;
  std::string key;
  for (const StackSample& s : samples) {
    if (s.values.size() != values.size()) continue;  // not of the declared types
    for (std::size_t v = 0; v < values.size(); ++v) values[v].value = s.values[v];
    key.clear();
    const std::uint8_t flags[] = {static_cast<std::uint8_t>(s.user_leaf_exact), static_cast<std::uint8_t>(s.truncated),
                                  static_cast<std::uint8_t>(s.user_stop),
                                  static_cast<std::uint8_t>(s.kernel_leaf_is_tracing)};
    key.append(reinterpret_cast<const char*>(&s.pid), sizeof s.pid);
    key.append(reinterpret_cast<const char*>(flags), sizeof flags);
    const std::uint64_t user_count = s.user_ips.size();
    key.append(reinterpret_cast<const char*>(&user_count), sizeof user_count);
    key.append(reinterpret_cast<const char*>(s.user_ips.data()), s.user_ips.size() * sizeof(std::uint64_t));
    key.append(reinterpret_cast<const char*>(s.kernel_ips.data()), s.kernel_ips.size() * sizeof(std::uint64_t));
    auto [it, inserted] = resolved.try_emplace(key, 0);
    if (inserted) it->second = stack_for(s);
    writer_.add_sample(checkpoint, it->second, s.pid, s.tid, values);
    if (s.tid != 0) writer_.add_thread(s.tid, s.pid, s.comm);
    if (counts_cpu_[source]) cpu += s.values[0];
  }
  return cpu;
}

std::int64_t SamplePipeline::push_address(std::int64_t parent, const ResolvedAddress& resolved) {
  const ModuleInfo& module = symbolizer_.module(resolved.module);
  std::vector<SegmentRow> segments;
  for (const auto& seg : module.code_segments) segments.push_back({seg.start, seg.end, seg.file_offset});
  const std::int64_t module_row = writer_.module_id(module.path, module.build_id, segments);
  const std::int64_t location = writer_.location_id(module_row, resolved.address);
  const auto& frames = resolved.symbolized->frames;
  for (std::size_t j = frames.size(); j-- > 0;) {
    const SourceFrame& f = frames[j];
    FrameRow row{f.function, f.file, f.line, static_cast<int>(frames.size() - 1 - j), module_row};
    parent = writer_.stack_node(parent, writer_.frame_id(row), location);
  }
  return parent;
}

std::int64_t SamplePipeline::push_synthetic(std::int64_t parent, const std::string& name) {
  const std::int64_t module_row = writer_.module_id("[unknown]", "");
  const std::int64_t location = writer_.location_id(module_row, 0);
  return writer_.stack_node(parent, writer_.frame_id({name, "", 0, 0, module_row}), location);
}

std::string SamplePipeline::stop_frame(const StackSample& s) {
  if (s.truncated || s.user_stop == UnwindStop::depth) return "[truncated: depth]";
  if (s.user_ips.empty()) return "";
  switch (s.user_stop) {
    case UnwindStop::no_table: {
      const ResolvedAddress outermost = symbolizer_.resolve_user(s.pid, s.user_ips.back() - 1);
      const std::string& path = symbolizer_.module(outermost.module).path;
      const auto slash = path.rfind('/');
      return fmt::format("[unwind: no table: {}]", slash == std::string::npos ? path : path.substr(slash + 1));
    }
    case UnwindStop::invalid_rule: return "[unwind: invalid rule]";
    case UnwindStop::read_fault: return "[unwind: read fault]";
    case UnwindStop::unknown_mapping: return "[unwind: unknown mapping]";
    default: return "";
  }
}

std::int64_t SamplePipeline::stack_for(const StackSample& s) {
  std::int64_t node = 0;
  // Where the stack ends, when not at its root: the outermost frame says why.
  if (const std::string stop = stop_frame(s); !stop.empty()) node = push_synthetic(node, stop);
  if (s.user_ips.empty() && s.kernel_ips.empty()) return push_synthetic(node, "[stack lost]");
  // Root first: the outermost user frame. Return addresses point after the call: step back
  // one byte so the call's own line is reported. An interrupted instruction (a CPU tick's
  // leaf in user mode, the kernel leaf) is exact.
  for (std::size_t i = s.user_ips.size(); i-- > 0;) {
    const std::uint64_t ip = s.user_ips[i];
    const bool exact = i == 0 && s.user_leaf_exact;
    node = push_address(node, symbolizer_.resolve_user(s.pid, exact ? ip : ip - 1));
  }
  // hotline's own program and the tracepoint's functions that ran it, at a tracepoint
  // stack's leaf, are not the target's.
  std::size_t skip = 0;
  while (s.kernel_leaf_is_tracing && skip < s.kernel_ips.size() && skip < 8) {
    const ResolvedAddress r = symbolizer_.resolve_kernel(skip == 0 ? s.kernel_ips[skip] : s.kernel_ips[skip] - 1);
    const auto& frames = r.symbolized->frames;
    if (frames.empty()) break;
    const std::string_view f = frames.back().function;
    if (!f.starts_with("bpf_prog_") && !f.starts_with("bpf_trace_run") && !f.starts_with("__bpf_trace_") &&
        !f.starts_with("__traceiter_")) {
      break;
    }
    ++skip;
  }
  for (std::size_t i = s.kernel_ips.size(); i-- > skip;) {
    const std::uint64_t ip = s.kernel_ips[i];
    node = push_address(node, symbolizer_.resolve_kernel(i == 0 ? ip : ip - 1));
  }
  return node;
}

}  // namespace hotline
