#pragma once
// The lifecycle of recorded processes: fork, exec and how each ended (the `events` table,
// `hotline events`, the abnormal-exit notes of `top`).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hotline {

enum class EventKind { fork, exec, exit, killed, core_dumped, oom_killed };

struct LifecycleEvent {
  std::int64_t ms = 0;  // since the recording started
  std::int64_t pid = 0;
  std::optional<std::int64_t> ppid;
  std::string comm;
  EventKind kind = EventKind::exit;
  std::optional<int> exit_code;  // exit
  std::optional<int> signal;     // killed, core_dumped, oom_killed
  std::string detail;            // exec: the executable; exit: why its status is not known
  std::string argv0;             // exec
  bool by_hotline = false;       // killed: hotline stopped it (a launched command when the recording ended)
};

// "fork", "exec", "exit", "killed", "core_dumped", "oom_killed".
std::string_view event_kind_name(EventKind kind);
// The kind named so; nullopt for a name this build does not know.
std::optional<EventKind> parse_event_kind(std::string_view name);

// "SIGSEGV", "SIGKILL", "SIGRTMIN+3"; "signal 70" for a number that names none.
std::string signal_name(int signal);

// How a process ended, from its wait status (as waitpid() gives it: exit code << 8, or the
// signal with 0x80 when a core was dumped): exit with its code, killed or core_dumped with
// the signal; oom_killed when the kernel's OOM killer chose it and a signal ended it.
void decode_wait_status(int status, bool oom_victim, LifecycleEvent& event);

}  // namespace hotline
