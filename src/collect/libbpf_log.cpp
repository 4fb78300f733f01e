#include "collect/libbpf_log.h"

#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>

#include "util/text.h"

namespace hotline {
namespace {

bool g_libbpf_verbose = false;

int libbpf_log(enum libbpf_print_level level, const char* format, va_list args) {
  // libbpf's own diagnostics only with --verbose: hotline reports failures itself, with a
  // remedy, and libbpf's debug chatter would drown that.
  if (!g_libbpf_verbose || level == LIBBPF_DEBUG) return 0;
  // Its messages name the target's files: made printable like every other message.
  char buf[2048];
  const int n = std::vsnprintf(buf, sizeof buf, format, args);
  if (n < 0) return n;
  std::string text(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  (void)std::fprintf(stderr, "%s\n", printable(text).c_str());
  return n;
}

}  // namespace

void use_hotline_libbpf_log() {
  libbpf_set_print(libbpf_log);
  libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
}

void set_libbpf_verbose(bool verbose) { g_libbpf_verbose = verbose; }

Error bpf_error(const std::string& what, int err) {
  err = err < 0 ? -err : err;
  if (err == EPERM || err == EACCES) {
    return Error(ExitCode::permission, errno_text(what, err),
                 "run as root, or grant the capabilities: setcap cap_perfmon,cap_bpf,cap_sys_ptrace+ep "
                 "$(command -v hotline)");
  }
  return Error(ExitCode::general, errno_text(what, err));
}

}  // namespace hotline
