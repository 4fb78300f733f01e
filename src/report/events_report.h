#pragma once
// `hotline events`: the lifecycle of a recording's processes (fork, exec, how each ended),
// and the note `top` and the live view print when targets died abnormally.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/events.h"
#include "store/reader.h"

namespace hotline {

struct EventsOptions {
  std::optional<std::int64_t> pid;  // --pid: one process's events
};

struct EventsReport {
  std::string file, process;
  bool recorded = true;  // false: a recording older than the events table
  std::vector<LifecycleEvent> events;
};

EventsReport events_report(const RecordingReader& reader, const EventsOptions& options);
std::string render_events_text(const EventsReport& report);
std::string render_events_json(const EventsReport& report);
std::string render_events_csv(const EventsReport& report);

// Processes that ended by a signal hotline did not send, a core dump or the OOM killer,
// counted per kind and signal.
struct AbnormalExit {
  EventKind kind = EventKind::killed;
  int signal = 0;
  std::uint64_t count = 0;
};
std::vector<AbnormalExit> abnormal_exits(const std::vector<LifecycleEvent>& events);
// "2 processes killed by SIGSEGV, 1 OOM-killed" ("" when there are none).
std::string abnormal_exits_text(const std::vector<AbnormalExit>& exits);
// "note: ... (see 'hotline events FILE')\n" for a report's header; "" when none died so.
std::string abnormal_exits_note(const std::vector<AbnormalExit>& exits, const std::string& file);
// [{"kind", "signal", "count"}].
nlohmann::ordered_json abnormal_exits_json(const std::vector<AbnormalExit>& exits);

}  // namespace hotline
