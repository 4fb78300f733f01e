#include "store/events.h"

#include <array>

#include <fmt/format.h>

namespace hotline {
namespace {

constexpr std::array<std::string_view, 6> kKindNames = {"fork", "exec", "exit", "killed", "core_dumped", "oom_killed"};

}  // namespace

std::string_view event_kind_name(EventKind kind) { return kKindNames.at(static_cast<std::size_t>(kind)); }

std::optional<EventKind> parse_event_kind(std::string_view name) {
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<EventKind>(i);
  }
  return std::nullopt;
}

std::string signal_name(int signal) {
  // x86_64's numbers (asm-generic/signal.h), which are Linux's on every common architecture
  // but alpha, mips, parisc and sparc.
  static constexpr std::array<std::string_view, 32> kNames = {
      "",        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP", "SIGABRT",   "SIGBUS",
      "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM",   "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU",   "SIGURG",
      "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",  "SIGPWR",    "SIGSYS"};
  if (signal > 0 && signal < static_cast<int>(kNames.size())) return std::string(kNames.at(static_cast<std::size_t>(signal)));
  // Real-time signals as glibc numbers them (32 and 33 are its threads' own).
  if (signal == 34) return "SIGRTMIN";
  if (signal > 34 && signal <= 64) return fmt::format("SIGRTMIN+{}", signal - 34);
  return fmt::format("signal {}", signal);
}

void decode_wait_status(int status, bool oom_victim, LifecycleEvent& event) {
  const int signal = status & 0x7f;
  event.exit_code.reset();
  event.signal.reset();
  if (signal == 0) {
    event.kind = EventKind::exit;
    event.exit_code = (status >> 8) & 0xff;
    return;
  }
  event.signal = signal;
  event.kind = oom_victim ? EventKind::oom_killed : (status & 0x80) != 0 ? EventKind::core_dumped : EventKind::killed;
}

}  // namespace hotline
