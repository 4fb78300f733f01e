#include "report/export.h"
#include "store/meta_keys.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "profile.pb.h"
#include "report/heap_top.h"
#include "report/offcpu_top.h"
#include "report/table.h"
#include "store/stack_table.h"
#include "util/error.h"
#include "util/text.h"

#ifndef HOTLINE_VERSION
#define HOTLINE_VERSION "0.0.0"
#endif

namespace hotline {

extern const char kFlamegraphHtml[];  // src/report/flamegraph.html, generated/flamegraph_html.cpp

namespace {

// One exported stack with its values (cpu: samples and nanoseconds; heap: allocated
// objects and bytes in the window, live objects and bytes at its end).
struct Sample {
  std::int64_t leaf = 0;
  std::vector<std::int64_t> values;
  std::int64_t pid = 0, tid = 0;
};

struct Selection {
  std::vector<std::string> type_names, units;
  std::vector<Sample> samples;
  std::int64_t period_ns = 0;
  std::int64_t duration_ms = 0;
  std::size_t main_value = 0;  // the value folded/speedscope show, and pprof's default
};

Selection select(const RecordingReader& reader, const ExportOptions& options) {
  Selection sel;
  const auto checkpoints = reader.checkpoints();
  std::int64_t start_ms = 0, end_ms = 0;
  const auto ids = select_checkpoints(checkpoints, options.window, &start_ms, &end_ms);
  sel.duration_ms = end_ms - start_ms;
  if (options.type == ExportType::cpu) {
    const std::int64_t hz = std::max<std::int64_t>(reader.meta_int(meta_key::cpu_frequency_hz, 99), 1);
    sel.period_ns = 1000000000 / hz;
    sel.type_names = {"samples", "cpu"};
    sel.units = {"count", "nanoseconds"};
    for (const CpuSampleRow& r : reader.cpu_samples(ids)) {
      const auto n = static_cast<std::int64_t>(r.count);
      sel.samples.push_back({r.stack, {n, n * sel.period_ns}, r.pid, r.tid});
    }
    return sel;
  }
  if (options.type == ExportType::offcpu) {
    require_offcpu_data(reader);
    sel.type_names = {"off_cpu"};
    sel.units = {"nanoseconds"};
    for (const CpuSampleRow& r : reader.samples_of(sample_types::offcpu, ids)) {
      if (r.count > 0) sel.samples.push_back({r.stack, {static_cast<std::int64_t>(r.count)}, r.pid, r.tid});
    }
    return sel;
  }
  if (options.type == ExportType::wall) {
    // Time on the CPU (samples x period) and time blocked, each stack's sum.
    require_offcpu_data(reader);
    const std::int64_t hz = std::max<std::int64_t>(reader.meta_int(meta_key::cpu_frequency_hz, 99), 1);
    const std::int64_t period_ns = 1000000000 / hz;
    sel.type_names = {"wall"};
    sel.units = {"nanoseconds"};
    for (const CpuSampleRow& r : reader.cpu_samples(ids)) {
      if (r.count > 0) sel.samples.push_back({r.stack, {static_cast<std::int64_t>(r.count) * period_ns}, r.pid, r.tid});
    }
    for (const CpuSampleRow& r : reader.samples_of(sample_types::offcpu, ids)) {
      if (r.count > 0) sel.samples.push_back({r.stack, {static_cast<std::int64_t>(r.count)}, r.pid, r.tid});
    }
    return sel;
  }
  if (!reader.has_heap_table() || reader.meta_or(meta_key::heap_mode, "off") == "off") {
    throw Error(ExitCode::invalid_args, fmt::format("{} has no heap data (recorded with --heap=off)", reader.path()),
                "export --type cpu, or record again with the heap on");
  }
  sel.type_names = {"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"};
  sel.units = {"count", "bytes", "count", "bytes"};
  sel.main_value = options.type == ExportType::heap_live ? 3 : 1;
  // Live needs everything from the start to the window's end; allocated is the window's.
  std::vector<std::int64_t> upto;
  for (const auto& c : checkpoints) {
    if (c.ms <= end_ms || (!ids.empty() && c.id <= ids.back())) upto.push_back(c.id);
  }
  const auto live = reader.heap_counts(upto);
  const auto window = reader.heap_counts(ids);
  std::set<std::int64_t> leaves;
  for (const auto& [leaf, h] : live) leaves.insert(leaf);
  for (const auto& [leaf, h] : window) leaves.insert(leaf);
  for (std::int64_t leaf : leaves) {
    Sample s;
    s.leaf = leaf;
    s.values.assign(4, 0);
    if (auto it = window.find(leaf); it != window.end()) {
      s.values[0] = it->second.alloc_count;
      s.values[1] = it->second.alloc_bytes;
    }
    if (auto it = live.find(leaf); it != live.end()) {
      s.values[2] = std::max<std::int64_t>(it->second.alloc_count - it->second.free_count, 0);
      s.values[3] = std::max<std::int64_t>(it->second.alloc_bytes - it->second.free_bytes, 0);
    }
    if (s.values[sel.main_value] > 0 || (options.format == ExportFormat::pprof && (s.values[1] > 0 || s.values[3] > 0))) {
      sel.samples.push_back(std::move(s));
    }
  }
  return sel;
}

std::string frame_label(const FrameInfo& f, bool lines) {
  std::string name = f.function.empty() ? "[unknown]" : f.function;
  if (lines && !f.file.empty()) {
    auto slash = f.file.rfind('/');
    name += fmt::format(" {}:{}", f.file.substr(slash == std::string::npos ? 0 : slash + 1), f.line);
  }
  return name;
}

std::string gzip(const std::string& data) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Error(ExitCode::general, "cannot start gzip compression");
  }
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int r = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (r != Z_STREAM_END) throw Error(ExitCode::general, "gzip compression failed");
  return out;
}

// Every stack of a profile merged into one call tree, as the flame graphs draw it: node 0
// is the root ("all"); a node's children are keyed by frame label. `base` carries a second
// profile's values for the differential graph. `lines` is the self value by source line
// (CPU: the leaf frame; heap: the allocating line outside the allocator).
struct FlameTree {
  struct Node {
    std::string label, where;
    std::int64_t value = 0, base = 0;
    std::map<std::string, std::size_t> children;  // label -> node index (sorted: stable layout)
    std::string file;                              // its source file's name ("" when unknown or several)
    std::map<int, std::int64_t> line_values;       // value (base + new) per line of that file
  };
  struct Line {
    std::string function, where;
    std::int64_t value = 0, base = 0;
  };
  std::vector<Node> nodes = std::vector<Node>(1);
  std::map<std::string, Line> lines;
  FlameTree() { nodes[0].label = "all"; }
};

std::string short_where(const FrameInfo& f) {
  if (f.file.empty()) return "";
  return fmt::format("{}:{}", f.file.substr(f.file.rfind('/') + 1), f.line);
}

// JSON placed inside a <script> element: no '<' may appear as such ("</script>", "<!--").
std::string script_safe_json(const nlohmann::ordered_json& j) {
  const std::string dumped = dump_json(j, -1);
  std::string out;
  out.reserve(dumped.size());
  for (char c : dumped) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

// The interactive page (src/report/flamegraph.html) filled with a tree.
std::string flamegraph_html(const FlameTree& tree, const std::string& title, const std::string& summary,
                            const std::string& unit, bool diff) {
  nlohmann::ordered_json strings = nlohmann::ordered_json::array(), rows = nlohmann::ordered_json::array();
  std::unordered_map<std::string, std::size_t> string_ids;
  auto str = [&](const std::string& s) {
    auto [it, inserted] = string_ids.try_emplace(s, string_ids.size());
    if (inserted) strings.push_back(s);
    return it->second;
  };
  // Parents before children, siblings sorted by label; frames with no value in the (new)
  // profile are not drawn and are left out (the table still lists lines that shrank to 0).
  std::vector<std::pair<std::size_t, std::int64_t>> todo = {{0, -1}};
  while (!todo.empty()) {
    const auto [node, parent] = todo.back();
    todo.pop_back();
    const FlameTree::Node& n = tree.nodes[node];
    const auto index = static_cast<std::int64_t>(rows.size());
    nlohmann::ordered_json row = {parent, str(n.label), str(n.where), n.value};
    if (diff) row.push_back(n.base);
    rows.push_back(std::move(row));
    for (auto it = n.children.rbegin(); it != n.children.rend(); ++it) {
      if (tree.nodes[it->second].value > 0) todo.emplace_back(it->second, index);
    }
  }
  std::vector<const FlameTree::Line*> lines;
  for (const auto& [key, line] : tree.lines) lines.push_back(&line);
  const double total = static_cast<double>(std::max<std::int64_t>(tree.nodes[0].value, 1));
  const double base_total = static_cast<double>(std::max<std::int64_t>(tree.nodes[0].base, 1));
  auto weight = [&](const FlameTree::Line* l) {
    if (!diff) return static_cast<double>(l->value);
    return std::abs(static_cast<double>(l->value) / total - static_cast<double>(l->base) / base_total);
  };
  std::stable_sort(lines.begin(), lines.end(), [&](auto* a, auto* b) { return weight(a) > weight(b); });
  if (lines.size() > 500) lines.resize(500);
  nlohmann::ordered_json table = nlohmann::ordered_json::array();
  for (const FlameTree::Line* l : lines) {
    if (weight(l) <= 0) break;
    nlohmann::ordered_json row = {l->function, l->where, l->value};
    if (diff) row.push_back(l->base);
    table.push_back(std::move(row));
  }
  nlohmann::ordered_json data;
  data["title"] = title;
  data["summary"] = summary;
  data["unit"] = unit;
  data["diff"] = diff;
  data["strings"] = std::move(strings);
  data["nodes"] = std::move(rows);
  data["lines"] = std::move(table);
  std::string page = kFlamegraphHtml;
  const std::string placeholder = "/*HOTLINE_DATA*/";
  const auto at = page.find(placeholder);
  if (at == std::string::npos) throw Error(ExitCode::general, "the embedded flame graph page has no data slot");
  page.replace(at, placeholder.size(), script_safe_json(data));
  return page;
}

class Exporter {
 public:
  Exporter(const RecordingReader& reader, const ExportOptions& options)
      : reader_(reader), options_(options), stacks_(reader) {}

  using Renderer = std::string (Exporter::*)(const Selection&);
  // Each format's renderer, by the registry's order.
  static Renderer renderer(ExportFormat format) {
    switch (format) {
      case ExportFormat::folded: return &Exporter::folded;
      case ExportFormat::speedscope: return &Exporter::speedscope;
      case ExportFormat::svg: return &Exporter::svg;
      case ExportFormat::flamegraph: return &Exporter::flamegraph;
      case ExportFormat::pprof: break;
    }
    return &Exporter::pprof;
  }

  std::string run() {
    const Selection sel = selection();
    return (this->*renderer(options_.format))(sel);
  }

  // The window's samples, with --filter applied.
  Selection selection() {
    Selection sel = select(reader_, options_);
    // --filter: stacks with a frame whose function or file contains the text.
    if (!options_.filter.empty()) {
      const std::string needle = lower_ascii(options_.filter);
      std::erase_if(sel.samples, [&](const Sample& s) {
        for (std::int64_t node : stacks_.root_to_leaf(s.leaf)) {
          const FrameInfo& f = frame(node);
          if (lower_ascii(f.function).find(needle) != std::string::npos || lower_ascii(f.file).find(needle) != std::string::npos) {
            return false;
          }
        }
        return true;
      });
    }
    return sel;
  }

 private:
  const FrameInfo& frame(std::int64_t node) const { return stacks_.frame(node); }

  std::string folded(const Selection& sel) {
    std::map<std::string, std::int64_t> stacks;
    for (const Sample& s : sel.samples) {
      std::string line;
      for (std::int64_t node : stacks_.root_to_leaf(s.leaf)) {
        std::string name = frame_label(frame(node), options_.lines);
        std::replace(name.begin(), name.end(), ';', ':');  // the separator
        name = printable(name);  // one stack per line, nothing a terminal obeys
        line += (line.empty() ? "" : ";") + name;
      }
      if (line.empty()) line = "[unknown]";
      stacks[line] += s.values[sel.main_value];
    }
    std::string out;
    for (const auto& [stack, value] : stacks) {
      if (value > 0) out += fmt::format("{} {}\n", stack, value);
    }
    return out;
  }

  std::string speedscope(const Selection& sel) {
    nlohmann::ordered_json frames = nlohmann::ordered_json::array();
    std::map<std::string, std::size_t> frame_index;  // frame (its line only with --lines) -> index
    nlohmann::ordered_json samples = nlohmann::ordered_json::array(), weights = nlohmann::ordered_json::array();
    std::int64_t total = 0;
    for (const Sample& s : sel.samples) {
      const std::int64_t w = s.values[sel.main_value];
      if (w <= 0) continue;
      nlohmann::ordered_json stack = nlohmann::ordered_json::array();
      for (std::int64_t node : stacks_.root_to_leaf(s.leaf)) {  // root first, as speedscope wants
        const FrameInfo& f = frame(node);
        const std::string label = frame_label(f, options_.lines);
        auto [it, inserted] = frame_index.try_emplace(label + '\x1f' + f.file, frames.size());
        if (inserted) {
          nlohmann::ordered_json j;
          j["name"] = label;
          if (!f.file.empty()) j["file"] = f.file;
          if (options_.lines && f.line > 0) j["line"] = f.line;
          frames.push_back(std::move(j));
        }
        stack.push_back(it->second);
      }
      samples.push_back(std::move(stack));
      weights.push_back(w);
      total += w;
    }
    nlohmann::ordered_json profile;
    profile["type"] = "sampled";
    profile["name"] = fmt::format("{} {} ({})", reader_.meta_or(meta_key::process_name, "process"), type_name(),
                                  reader_.path());
    profile["unit"] = options_.type == ExportType::cpu     ? "none"
                      : timed()                             ? "nanoseconds"
                                                            : "bytes";
    profile["startValue"] = 0;
    profile["endValue"] = total;
    profile["samples"] = std::move(samples);
    profile["weights"] = std::move(weights);
    nlohmann::ordered_json file;
    file["$schema"] = "https://www.speedscope.app/file-format-schema.json";
    file["shared"] = {{"frames", std::move(frames)}};
    file["profiles"] = nlohmann::ordered_json::array({std::move(profile)});
    file["name"] = fmt::format("{} {}", reader_.meta_or(meta_key::process_name, "process"), type_name());
    file["activeProfileIndex"] = 0;
    file["exporter"] = fmt::format("hotline {}", HOTLINE_VERSION);
    return dump_json(file, -1) + "\n";
  }

 public:
  // Adds the selection's stacks to a call tree (into `base` for a diff's base profile).
  void fill(FlameTree& tree, const Selection& sel, bool base) {
    for (const Sample& s : sel.samples) {
      const std::int64_t v = s.values[sel.main_value];
      if (v <= 0) continue;
      std::size_t at = 0;
      (base ? tree.nodes[0].base : tree.nodes[0].value) += v;
      const auto path = stacks_.root_to_leaf(s.leaf);
      for (std::int64_t node : path) {
        const FrameInfo& f = frame(node);
        const std::string label = frame_label(f, options_.lines);
        auto it = tree.nodes[at].children.find(label);
        if (it == tree.nodes[at].children.end()) {
          it = tree.nodes[at].children.emplace(label, tree.nodes.size()).first;
          FlameTree::Node n;
          n.label = label;
          n.file = f.file.empty() ? "" : f.file.substr(f.file.rfind('/') + 1);
          tree.nodes.push_back(std::move(n));
        }
        at = it->second;
        FlameTree::Node& n = tree.nodes[at];
        (base ? n.base : n.value) += v;
        // One frame label over several lines (no --lines): its hottest line is named, with
        // how many others there are; over several files (same name), none.
        if (!n.file.empty() && n.file == f.file.substr(f.file.rfind('/') + 1)) {
          n.line_values[f.line] += v;
        } else {
          n.file.clear();
        }
      }
      // The line this sample's value belongs to.
      const FrameInfo* site = path.empty()                         ? nullptr
                              : options_.type == ExportType::cpu    ? &frame(path.back())
                              : timed()                             ? innermost_user_frame(path)
                                                                    : stacks_.allocating_frame(s.leaf);
      const std::string function = site == nullptr || site->function.empty() ? "[unknown]" : site->function;
      const std::string where = site == nullptr ? "" : short_where(*site);
      FlameTree::Line& line = tree.lines[function + '\x1f' + where];
      line.function = function;
      line.where = where;
      (base ? line.base : line.value) += v;
    }
  }

  // Every node's `where` from its lines: "file.c:LINE", or "file.c:LINE (+N lines)".
  static void name_lines(FlameTree& tree) {
    for (FlameTree::Node& n : tree.nodes) {
      if (n.file.empty() || n.line_values.empty()) continue;
      const auto hottest = std::max_element(n.line_values.begin(), n.line_values.end(),
                                            [](const auto& a, const auto& b) { return a.second < b.second; });
      n.where = fmt::format("{}:{}", n.file, hottest->first);
      if (n.line_values.size() > 1) {
        n.where += fmt::format(" (+{} line{})", n.line_values.size() - 1, n.line_values.size() > 2 ? "s" : "");
      }
    }
  }

  std::string unit() const {
    return options_.type == ExportType::cpu ? "samples" : timed() ? "nanoseconds" : "bytes";
  }

  // Values in nanoseconds of time: off-CPU and wall.
  bool timed() const { return options_.type == ExportType::offcpu || options_.type == ExportType::wall;
  }

  // The call that blocked: the innermost frame outside the kernel (its modules are named in
  // brackets, as [kernel] and [bpf]).
  const FrameInfo* innermost_user_frame(const std::vector<std::int64_t>& path) const {
    const auto modules = module_paths();
    for (std::size_t i = path.size(); i-- > 0;) {
      const FrameInfo& f = frame(path[i]);
      auto it = modules->find(f.module_id);
      const std::string& m = it == modules->end() ? std::string() : it->second;
      if (!kernel_module_path(m)) return &f;
    }
    return path.empty() ? nullptr : &frame(path.back());
  }

  const std::unordered_map<std::int64_t, std::string>* module_paths() const {
    if (!module_paths_) {
      module_paths_.emplace();
      for (const auto& [id, m] : reader_.modules()) (*module_paths_)[id] = m.path;
    }
    return &*module_paths_;
  }

  std::string summary(const Selection& sel, std::int64_t total) const {
    std::string out =
        options_.type == ExportType::cpu
            ? fmt::format("{} samples at {} Hz", total, reader_.meta_int(meta_key::cpu_frequency_hz, 99))
        : options_.type == ExportType::offcpu
            ? fmt::format("{:.1f} ms off-CPU", static_cast<double>(total) / 1e6)
        : options_.type == ExportType::wall
            ? fmt::format("{:.1f} ms wall (on and off CPU)", static_cast<double>(total) / 1e6)
            : fmt::format("{} bytes {}", total, options_.type == ExportType::heap_live ? "live at the end" : "allocated");
    out += fmt::format(" over {:.1f} s · {} · pid {}", static_cast<double>(sel.duration_ms) / 1000.0, reader_.path(),
                       reader_.meta_or(meta_key::pids, "?"));
    if (const std::string start = reader_.meta_or(meta_key::start_time); !start.empty()) out += " · " + start;
    if (options_.type != ExportType::cpu && !timed() && reader_.meta_or(meta_key::heap_mode) == "sampled") {
      out += " · sampled heap (estimates)";
    }
    if (!options_.filter.empty()) out += fmt::format(" · filter '{}'", options_.filter);
    return out;
  }

  std::string title() const {
    return fmt::format("{} · {} · hotline", reader_.meta_or(meta_key::process_name, "process"), type_name());
  }

 private:
  std::string flamegraph(const Selection& sel) {
    FlameTree tree;
    fill(tree, sel, false);
    name_lines(tree);
    return flamegraph_html(tree, title(), summary(sel, tree.nodes[0].value), unit(), false);
  }

  // A static flame graph (root at the bottom), one <g> per frame with a <title> tooltip.
  std::string svg(const Selection& sel) {
    FlameTree tree;
    fill(tree, sel, false);
    name_lines(tree);
    const auto& nodes = tree.nodes;
    const double width = 1200, margin = 10, row = 17, top = 40;
    const std::string unit = this->unit();
    struct Placed {
      std::size_t node;
      int depth;
      double x, w;
    };
    std::vector<Placed> placed;
    int max_depth = 0;
    std::vector<Placed> todo = {{0, 0, margin, width - 2 * margin}};
    const double scale = nodes[0].value > 0 ? (width - 2 * margin) / static_cast<double>(nodes[0].value) : 0;
    while (!todo.empty()) {
      Placed p = todo.back();
      todo.pop_back();
      if (p.w < 0.3) continue;  // narrower than a pixel's third: not drawn
      placed.push_back(p);
      max_depth = std::max(max_depth, p.depth);
      double x = p.x;
      for (const auto& [label, child] : nodes[p.node].children) {
        const double w = static_cast<double>(nodes[child].value) * scale;
        todo.push_back({child, p.depth + 1, x, w});
        x += w;
      }
    }
    const double height = top + (max_depth + 1) * row + 20;
    const auto xml = [](const std::string& text) { return xml_text(text); };
    std::string out = fmt::format(
        "<?xml version=\"1.0\" standalone=\"no\"?>\n"
        "<svg version=\"1.1\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"Verdana, sans-serif\" font-size=\"12\">\n"
        "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"#f8f8f8\"/>\n"
        "<text x=\"{2}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">{3}</text>\n",
        width, height, width / 2,
        xml(fmt::format("{} · {} · {} {} · hotline", reader_.meta_or(meta_key::process_name, "process"), type_name(),
                        nodes[0].value, unit)));
    for (const Placed& p : placed) {
      const FlameTree::Node& n = nodes[p.node];
      const double y = height - 20 - (p.depth + 1) * row;
      const double pct = nodes[0].value > 0 ? 100.0 * static_cast<double>(n.value) / static_cast<double>(nodes[0].value) : 0;
      // Warm colours from the name, so a function keeps its colour across graphs.
      const std::size_t h = std::hash<std::string>()(n.label);
      const int r = 205 + static_cast<int>(h % 50), g = static_cast<int>((h >> 8) % 200), b = static_cast<int>((h >> 16) % 55);
      const std::string tip = fmt::format("{}{} — {} {} ({:.2f}%)", n.label, n.where.empty() ? "" : " (" + n.where + ")",
                                          n.value, unit, pct);
      out += fmt::format("<g><title>{}</title><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" "
                         "fill=\"rgb({},{},{})\" rx=\"2\"/>",
                         xml(tip), p.x, y, p.w, row - 1, r, g, b);
      const std::size_t fits = static_cast<std::size_t>(p.w / 7);  // ~7 px per character
      if (fits >= 3) {
        std::string text = n.label.size() <= fits ? n.label : n.label.substr(0, fits - 2) + "..";
        out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", p.x + 3, y + row - 5, xml(text));
      }
      out += "</g>\n";
    }
    return out + "</svg>\n";
  }

  std::string pprof(const Selection& sel) {
    perftools::profiles::Profile p;
    std::unordered_map<std::string, std::int64_t> strings;
    auto str = [&](const std::string& s) -> std::int64_t {
      auto [it, inserted] = strings.try_emplace(s, p.string_table_size());
      if (inserted) p.add_string_table(s);
      return it->second;
    };
    str("");
    for (std::size_t i = 0; i < sel.type_names.size(); ++i) {
      auto* vt = p.add_sample_type();
      vt->set_type(str(sel.type_names[i]));
      vt->set_unit(str(sel.units[i]));
    }
    if (options_.type == ExportType::cpu) {
      p.mutable_period_type()->set_type(str("cpu"));
      p.mutable_period_type()->set_unit(str("nanoseconds"));
      p.set_period(sel.period_ns);
    } else if (options_.type == ExportType::offcpu) {
      p.mutable_period_type()->set_type(str("off_cpu"));
      p.mutable_period_type()->set_unit(str("nanoseconds"));
      p.set_period(1);
      p.set_default_sample_type(str("off_cpu"));
    } else if (options_.type == ExportType::wall) {
      p.mutable_period_type()->set_type(str("wall"));
      p.mutable_period_type()->set_unit(str("nanoseconds"));
      p.set_period(1);
      p.set_default_sample_type(str("wall"));
    } else {
      p.mutable_period_type()->set_type(str("space"));
      p.mutable_period_type()->set_unit(str("bytes"));
      p.set_default_sample_type(str(sel.type_names[sel.main_value]));
      if (reader_.meta_or(meta_key::heap_mode) == "sampled") p.set_period(reader_.meta_int(meta_key::heap_sample_bytes));
    }
    p.set_duration_nanos(sel.duration_ms * 1000000);
    p.add_comment(str(fmt::format("hotline {} recording {} ({} {})", HOTLINE_VERSION, reader_.path(),
                                  reader_.meta_or(meta_key::process_name), type_name())));

    const auto modules = reader_.modules();
    const auto locations = reader_.locations();
    const auto segments = reader_.module_segments();
    const auto threads = reader_.thread_names();
    std::map<std::int64_t, std::pair<std::uint64_t, std::uint64_t>> module_range;  // used modules
    std::map<std::pair<std::string, std::string>, std::uint64_t> function_ids;
    std::map<std::int64_t, std::uint64_t> location_ids;  // recording location id -> pprof id
    auto function_id = [&](const FrameInfo& f) {
      auto [it, inserted] = function_ids.try_emplace({f.function, f.file}, function_ids.size() + 1);
      if (inserted) {
        auto* fn = p.add_function();
        fn->set_id(it->second);
        fn->set_name(str(f.function.empty() ? "[unknown]" : f.function));
        fn->set_system_name(fn->name());
        fn->set_filename(str(f.file));
      }
      return it->second;
    };
    for (const Sample& s : sel.samples) {
      auto* out = p.add_sample();
      const auto path = stacks_.root_to_leaf(s.leaf);
      // Leaf first; consecutive nodes of one location are its inline chain.
      for (std::size_t i = path.size(); i-- > 0;) {
        const std::int64_t loc = stacks_.node(path[i])->location_id;
        if (i + 1 < path.size() && stacks_.node(path[i + 1])->location_id == loc) continue;  // same location
        auto [it, inserted] = location_ids.try_emplace(loc, location_ids.size() + 1);
        if (inserted) {
          auto* l = p.add_location();
          l->set_id(it->second);
          const auto lr = locations.find(loc);
          if (lr != locations.end()) {
            l->set_mapping_id(static_cast<std::uint64_t>(lr->second.module_id));
            l->set_address(lr->second.address);
            auto& range = module_range.try_emplace(lr->second.module_id, lr->second.address, lr->second.address).first->second;
            range.first = std::min(range.first, lr->second.address);
            range.second = std::max(range.second, lr->second.address);
          }
          // This location's frames: from this node outwards while the location is the same;
          // pprof lists the innermost inlined function first.
          std::size_t first = i;
          while (first > 0 && stacks_.node(path[first - 1])->location_id == loc) --first;
          for (std::size_t j = i + 1; j-- > first;) {
            const FrameInfo& f = frame(path[j]);
            auto* line = l->add_line();
            line->set_function_id(function_id(f));
            line->set_line(f.line);
          }
        }
        out->add_location_id(it->second);
      }
      for (std::int64_t v : s.values) out->add_value(v);
      if (s.pid != 0) {
        auto* pid = out->add_label();
        pid->set_key(str("pid"));
        pid->set_num(s.pid);
      }
      if (s.tid != 0) {
        auto* tid = out->add_label();
        tid->set_key(str("tid"));
        tid->set_num(s.tid);
        if (auto t = threads.find(s.tid); t != threads.end() && !t->second.empty()) {
          auto* name = out->add_label();
          name->set_key(str("thread"));
          name->set_str(str(t->second));
        }
      }
    }
    // Mappings: the modules code ran in. Addresses are ELF virtual addresses of each file,
    // so a mapping covers the file's executable segments as recorded (schema 3 on) when they
    // contain every address seen; else the span of the addresses seen. The files themselves
    // are never opened: they may be gone, or another file by now.
    // The main executable first: pprof names the profile after its first mapping.
    std::vector<std::int64_t> order;
    const std::string exe = reader_.meta_or(meta_key::exe);
    for (const auto& [id, range] : module_range) {
      auto it = modules.find(id);
      const bool main = it != modules.end() && !exe.empty() && it->second.path.ends_with(exe.substr(exe.rfind('/') + 1));
      order.insert(main ? order.begin() : order.end(), id);
    }
    for (std::int64_t id : order) {
      const auto& range = module_range.at(id);
      auto* m = p.add_mapping();
      m->set_id(static_cast<std::uint64_t>(id));
      m->set_memory_start(range.first);
      m->set_memory_limit(range.second + 1);
      if (auto seg = segments.find(id); seg != segments.end() && !seg->second.empty()) {
        // The span of the file's executable segments, recorded with it; the file offset of
        // the lowest.
        std::uint64_t start = ~std::uint64_t{0}, limit = 0, offset = 0;
        for (const SegmentInfo& sg : seg->second) {
          if (sg.start < start) {
            start = sg.start;
            offset = sg.file_offset;
          }
          limit = std::max(limit, sg.end);
        }
        if (start <= range.first && range.second < limit) {
          m->set_memory_start(start);
          m->set_memory_limit(limit);
          m->set_file_offset(offset);
        }
      }
      if (auto it = modules.find(id); it != modules.end()) {
        m->set_filename(str(it->second.path));
        m->set_build_id(str(it->second.build_id));
      }
      m->set_has_functions(true);
      m->set_has_filenames(true);
      m->set_has_line_numbers(true);
      m->set_has_inline_frames(true);
    }
    std::string bytes;
    if (!p.SerializeToString(&bytes)) throw Error(ExitCode::general, "cannot encode the pprof profile");
    return gzip(bytes);
  }

 public:
  std::string type_name() const {
    switch (options_.type) {
      case ExportType::cpu: return "cpu";
      case ExportType::heap_live: return "heap-live";
      case ExportType::heap_alloc: return "heap-alloc";
      case ExportType::offcpu: return "offcpu";
      case ExportType::wall: return "wall";
    }
    return "cpu";
  }

 private:
  const RecordingReader& reader_;
  const ExportOptions& options_;
  StackTable stacks_;
  mutable std::optional<std::unordered_map<std::int64_t, std::string>> module_paths_;
};

}  // namespace

std::string export_recording(const RecordingReader& reader, const ExportOptions& options) {
  return Exporter(reader, options).run();
}

std::string export_diff_flamegraph(const RecordingReader& base, const RecordingReader& next,
                                   const ExportOptions& options) {
  Exporter from(base, options), to(next, options);
  const Selection base_sel = from.selection(), new_sel = to.selection();
  FlameTree tree;
  from.fill(tree, base_sel, true);
  to.fill(tree, new_sel, false);
  Exporter::name_lines(tree);
  const std::string title = fmt::format("{} → {} · {} diff · hotline", base.meta_or(meta_key::process_name, "base"),
                                        next.meta_or(meta_key::process_name, "new"), to.type_name());
  const std::string summary = fmt::format(
      "base {} ({} {}) → new {} ({} {}) · width: the new profile · red: share grew, blue: share shrank",
      base.path(), tree.nodes[0].base, to.unit(), next.path(), tree.nodes[0].value, to.unit());
  return flamegraph_html(tree, title, summary, to.unit(), true);
}

const std::vector<OutputFormat>& output_formats() {
  static const std::vector<OutputFormat> formats = {
      {ExportFormat::flamegraph, "flamegraph", ".html",
       "one self-contained HTML page: zoom, search, table of lines"},
      {ExportFormat::pprof, "pprof", ".pb.gz", "gzipped profile.proto: go tool pprof, Parca, Pyroscope"},
      {ExportFormat::folded, "folded", "", "folded stacks, frame;frame;frame count: flamegraph.pl, inferno"},
      {ExportFormat::speedscope, "speedscope", "", "speedscope's JSON file format"},
      {ExportFormat::svg, "svg", ".svg", "static flame graph"},
  };
  return formats;
}

const OutputFormat& output_format(ExportFormat format) {
  for (const OutputFormat& f : output_formats()) {
    if (f.format == format) return f;
  }
  return output_formats().front();
}

ExportFormat parse_export_format(const std::string& name) {
  std::string names;
  for (const OutputFormat& f : output_formats()) {
    if (f.name == name) return f.format;
    names += (names.empty() ? "" : ", ") + std::string(f.name);
  }
  throw Error(ExitCode::invalid_args, fmt::format("unknown export format '{}'", name), "use one of: " + names);
}

ExportType parse_export_type(const std::string& name) {
  if (name == "cpu") return ExportType::cpu;
  if (name == "heap-live") return ExportType::heap_live;
  if (name == "heap-alloc") return ExportType::heap_alloc;
  if (name == "offcpu") return ExportType::offcpu;
  if (name == "wall") return ExportType::wall;
  throw Error(ExitCode::invalid_args, fmt::format("unknown profile type '{}'", name),
              "use cpu, heap-live, heap-alloc, offcpu or wall");
}

}  // namespace hotline
