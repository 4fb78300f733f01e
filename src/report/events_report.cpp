#include "report/events_report.h"

#include <map>
#include <utility>

#include <fmt/format.h>

#include "report/table.h"
#include "store/meta_keys.h"
#include "util/text.h"

namespace hotline {
namespace {

// What happened, in a few words: "exit 3", "killed by SIGKILL", "fork of 123".
std::string what(const LifecycleEvent& e) {
  switch (e.kind) {
    case EventKind::fork: return e.ppid ? fmt::format("forked by {}", *e.ppid) : "forked";
    case EventKind::exec: return "exec";
    case EventKind::exit: return e.exit_code ? fmt::format("exit {}", *e.exit_code) : "exit";
    case EventKind::killed:
      return fmt::format("killed by {}{}", signal_name(e.signal.value_or(0)), e.by_hotline ? " (from hotline)" : "");
    case EventKind::core_dumped: return fmt::format("core dumped ({})", signal_name(e.signal.value_or(0)));
    case EventKind::oom_killed: return fmt::format("OOM-killed ({})", signal_name(e.signal.value_or(0)));
  }
  return "";
}

std::string detail_of(const LifecycleEvent& e) {
  std::string d = e.detail;
  if (e.kind == EventKind::exec && !e.argv0.empty()) d += fmt::format("{}argv[0] {}", d.empty() ? "" : " · ", e.argv0);
  if (e.by_hotline) d += std::string(d.empty() ? "" : " · ") + "hotline stopped what it launched as the recording ended";
  return d;
}

}  // namespace

EventsReport events_report(const RecordingReader& reader, const EventsOptions& options) {
  EventsReport r;
  r.file = reader.path();
  r.process = reader.meta_or(meta_key::process_name);
  r.recorded = reader.schema_version() >= 4;
  for (LifecycleEvent& e : reader.events()) {
    if (options.pid && e.pid != *options.pid) continue;
    r.events.push_back(std::move(e));
  }
  return r;
}

std::string render_events_text(const EventsReport& r) {
  if (!r.recorded) {
    return fmt::format("{}: recorded before hotline kept process events (recording format 4)\n", printable(r.file));
  }
  std::string out = fmt::format("{} · {} process event{} · {}\n", printable(r.process), r.events.size(),
                                r.events.size() == 1 ? "" : "s", printable(r.file));
  if (const std::string note = abnormal_exits_text(abnormal_exits(r.events)); !note.empty()) {
    out += "note: " + note + "\n";
  }
  if (r.events.empty()) return out;
  TextTable t;
  t.headers = {"TIME", "PID", "PPID", "COMM", "EVENT", "DETAIL"};
  t.right_align = {true, true, true, false, false, false};
  for (const LifecycleEvent& e : r.events) {
    t.rows.push_back({fmt::format("{:.3f}s", static_cast<double>(e.ms) / 1000.0), std::to_string(e.pid),
                      e.ppid ? std::to_string(*e.ppid) : "", e.comm, what(e), detail_of(e)});
  }
  return out + t.render();
}

std::string render_events_json(const EventsReport& r) {
  nlohmann::ordered_json j;
  j["file"] = r.file;
  j["process"] = r.process;
  j["recorded"] = r.recorded;
  j["abnormal_exits"] = abnormal_exits_json(abnormal_exits(r.events));
  j["events"] = nlohmann::ordered_json::array();
  for (const LifecycleEvent& e : r.events) {
    nlohmann::ordered_json x;
    x["time_ms"] = e.ms;
    x["pid"] = e.pid;
    x["ppid"] = e.ppid ? nlohmann::ordered_json(*e.ppid) : nlohmann::ordered_json();
    x["comm"] = e.comm;
    x["kind"] = event_kind_name(e.kind);
    x["exit_code"] = e.exit_code ? nlohmann::ordered_json(*e.exit_code) : nlohmann::ordered_json();
    x["signal"] = e.signal ? nlohmann::ordered_json(signal_name(*e.signal)) : nlohmann::ordered_json();
    x["detail"] = e.detail.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(e.detail);
    if (e.kind == EventKind::exec) x["argv0"] = e.argv0;
    x["by_hotline"] = e.by_hotline;
    j["events"].push_back(std::move(x));
  }
  return dump_json(j) + "\n";
}

std::string render_events_csv(const EventsReport& r) {
  std::string out = "time_ms,pid,ppid,comm,kind,exit_code,signal,detail,argv0,by_hotline\n";
  for (const LifecycleEvent& e : r.events) {
    out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", e.ms, e.pid, e.ppid ? std::to_string(*e.ppid) : "",
                       csv_escape(e.comm), event_kind_name(e.kind), e.exit_code ? std::to_string(*e.exit_code) : "",
                       e.signal ? signal_name(*e.signal) : "", csv_escape(e.detail), csv_escape(e.argv0),
                       e.by_hotline ? 1 : 0);
  }
  return out;
}

std::vector<AbnormalExit> abnormal_exits(const std::vector<LifecycleEvent>& events) {
  std::map<std::pair<int, int>, std::uint64_t> counts;  // (kind, signal) -> processes
  for (const LifecycleEvent& e : events) {
    const bool abnormal = (e.kind == EventKind::killed && !e.by_hotline) || e.kind == EventKind::core_dumped ||
                          e.kind == EventKind::oom_killed;
    if (abnormal) ++counts[{static_cast<int>(e.kind), e.kind == EventKind::oom_killed ? 0 : e.signal.value_or(0)}];
  }
  std::vector<AbnormalExit> out;
  for (const auto& [key, n] : counts) out.push_back({static_cast<EventKind>(key.first), key.second, n});
  return out;
}

std::string abnormal_exits_text(const std::vector<AbnormalExit>& exits) {
  std::string out;
  for (const AbnormalExit& a : exits) {
    const std::string processes = fmt::format("{} process{}", a.count, a.count == 1 ? "" : "es");
    std::string part = a.kind == EventKind::oom_killed    ? fmt::format("{} OOM-killed", a.count)
                       : a.kind == EventKind::core_dumped ? fmt::format("{} dumped core ({})", processes, signal_name(a.signal))
                                                          : fmt::format("{} killed by {}", processes, signal_name(a.signal));
    out += (out.empty() ? "" : ", ") + part;
  }
  return out;
}

std::string abnormal_exits_note(const std::vector<AbnormalExit>& exits, const std::string& file) {
  if (exits.empty()) return "";
  return fmt::format("note: {} (see 'hotline events {}')\n", abnormal_exits_text(exits), printable(file));
}

nlohmann::ordered_json abnormal_exits_json(const std::vector<AbnormalExit>& exits) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const AbnormalExit& a : exits) {
    nlohmann::ordered_json x;
    x["kind"] = event_kind_name(a.kind);
    x["signal"] = a.kind == EventKind::oom_killed ? nlohmann::ordered_json() : nlohmann::ordered_json(signal_name(a.signal));
    x["count"] = a.count;
    j.push_back(std::move(x));
  }
  return j;
}

}  // namespace hotline
