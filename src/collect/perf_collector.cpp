#include "collect/perf_collector.h"

#include <dirent.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "hotline_abi.h"
#include "target/proc.h"
#include "util/error.h"
#include "util/files.h"

namespace hotline {
namespace {

constexpr std::uint32_t kMaxStack = HOTLINE_MAX_STACK_DEPTH;

std::vector<pid_t> threads_of(pid_t pid) {
  std::vector<pid_t> out;
  DIR* dir = ::opendir(fmt::format("/proc/{}/task", pid).c_str());
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long tid = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && tid > 0) out.push_back(static_cast<pid_t>(tid));
  }
  ::closedir(dir);
  return out;
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

PerfCollector::PerfCollector(const Options& options) : options_(options), cpus_(online_cpus()) {
  if (options_.buffer_pages == 0 || (options_.buffer_pages & (options_.buffer_pages - 1)) != 0) {
    options_.buffer_pages = 32;
  }
}

PerfCollector::~PerfCollector() {
  for (Buffer& b : buffers_) {
    if (b.base != nullptr) ::munmap(b.base, b.bytes);
  }
}

int PerfCollector::open_event(pid_t tid, int cpu) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.freq = 1;
  attr.sample_freq = static_cast<std::uint64_t>(options_.frequency_hz);
  // Instruction pointers of the kernel-unwound stack, and whose they are. Nothing else:
  // no PERF_SAMPLE_STACK_USER / REGS_USER, no memory of the target is copied.
  attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN;
  attr.sample_max_stack = kMaxStack;
  attr.inherit = 1;  // threads and processes created from now on
  attr.exclude_kernel = options_.kernel ? 0 : 1;
  attr.exclude_callchain_kernel = options_.kernel ? 0 : 1;
  attr.exclude_hv = 1;
  attr.task = 1;       // PERF_RECORD_FORK / EXIT
  attr.comm = 1;       // PERF_RECORD_COMM (thread names, exec)
  attr.comm_exec = 1;  // ... marked when caused by exec
  attr.watermark = 1;
  attr.wakeup_watermark = options_.buffer_pages * static_cast<std::uint32_t>(::sysconf(_SC_PAGESIZE)) / 4;
  return static_cast<int>(::syscall(SYS_perf_event_open, &attr, tid, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

PerfCollector::Buffer& PerfCollector::buffer_for(int cpu, int fd) {
  for (Buffer& b : buffers_) {
    if (b.cpu == cpu) {
      if (::ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, b.fd) != 0) {
        throw Error(ExitCode::general, errno_text(fmt::format("cannot share the perf buffer of CPU {}", cpu), errno));
      }
      return b;
    }
  }
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // Unprivileged callers may lock perf_event_mlock_kb (516 KiB) per user, then
  // RLIMIT_MEMLOCK: halve the buffer until it fits.
  for (std::uint32_t pages = options_.buffer_pages; pages >= 1; pages /= 2) {
    const std::size_t bytes = (pages + 1) * page;
    void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base != MAP_FAILED) {
      buffers_.push_back({cpu, fd, base, bytes, false});
      return buffers_.back();
    }
    if (errno != EPERM && errno != ENOMEM) break;
  }
  throw Error(ExitCode::permission,
              errno_text(fmt::format("cannot map a perf sample buffer for CPU {}", cpu), errno),
              "raise kernel.perf_event_mlock_kb or the locked-memory limit (ulimit -l), or grant CAP_IPC_LOCK");
}

void PerfCollector::add_target(pid_t pid) {
  // Threads created while we open are inherited only from threads that already have
  // events: repeat until every thread of the process is covered.
  for (int round = 0; round < 8; ++round) {
    bool added = false;
    for (pid_t tid : threads_of(pid)) {
      if (covered_.contains(tid)) continue;
      bool any = false;
      for (int cpu : cpus_) {
        UniqueFd fd(open_event(tid, cpu));
        if (!fd) {
          const int err = errno;
          if (err == ESRCH) break;                   // the thread exited meanwhile
          if (err == ENODEV || err == ENOENT) continue;  // the CPU went offline
          if (err == EACCES || err == EPERM) {
            throw Error(ExitCode::permission,
                        errno_text(fmt::format("cannot open a perf event on thread {} of process {}", tid, pid), err),
                        options_.kernel ? "lower kernel.perf_event_paranoid to 1 for kernel frames, or grant CAP_PERFMON"
                                        : "sudo sysctl kernel.perf_event_paranoid=2, or grant CAP_PERFMON: "
                                          "setcap cap_perfmon,cap_bpf,cap_sys_ptrace+ep $(command -v hotline)");
          }
          throw Error(ExitCode::general,
                      errno_text(fmt::format("cannot open a perf event on thread {} of process {}", tid, pid), err));
        }
        buffer_for(cpu, fd.get());
        fds_.push_back(std::move(fd));
        any = true;
      }
      if (any) {
        covered_.insert(tid);
        added = true;
      }
    }
    if (!added) break;
  }
  if (threads_of(pid).empty() && !process_alive(pid)) {
    throw Error(ExitCode::not_found, fmt::format("process {} exited before it could be profiled", pid));
  }
}

void PerfCollector::remove_target(pid_t pid) { removed_.insert(pid); }

void PerfCollector::poll_events(int timeout_ms, const std::function<void(const ProcEvent&)>& on_event) {
  std::vector<pollfd> fds;
  for (const Buffer& b : buffers_) {
    if (!b.hung_up) fds.push_back({b.fd, POLLIN, 0});
  }
  if (timeout_ms > 0) {
    if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    } else if (::poll(fds.data(), fds.size(), timeout_ms) > 0) {
      for (const pollfd& p : fds) {
        if ((p.revents & POLLHUP) == 0) continue;
        for (Buffer& b : buffers_) b.hung_up |= b.fd == p.fd;
      }
    }
  }
  read_buffers();
  std::vector<ProcEvent> events;
  events.swap(pending_);
  for (const ProcEvent& e : events) on_event(e);
}

std::vector<CpuSample> PerfCollector::drain() {
  read_buffers();
  std::vector<CpuSample> out;
  out.reserve(counts_.size());
  for (auto& [key, count] : counts_) {
    CpuSample s;
    s.pid = key.pid;
    s.tid = key.tid;
    s.comm = comm_of(key.pid, key.tid);
    s.user_ips = key.user;
    s.kernel_ips = key.kernel;
    s.truncated = key.user.size() + key.kernel.size() >= kMaxStack - 2;
    s.count = count;
    if (s.truncated) stats_.truncated += count;
    out.push_back(std::move(s));
  }
  counts_.clear();
  for (pid_t tid : exited_) comms_.erase(tid);
  exited_.clear();
  return out;
}

std::uint64_t PerfCollector::map_bytes() const {
  std::uint64_t total = 0;
  for (const Buffer& b : buffers_) total += b.bytes;
  return total;
}

const std::string& PerfCollector::comm_of(pid_t pid, pid_t tid) {
  auto [it, inserted] = comms_.try_emplace(tid);
  if (inserted) {
    auto text = read_text_file(fmt::format("/proc/{}/task/{}/comm", pid, tid), 64);
    if (text) {
      while (!text->empty() && text->back() == '\n') text->pop_back();
      it->second = *text;
    } else {
      it->second = read_comm(pid).value_or("");
    }
  }
  return it->second;
}

void PerfCollector::read_buffers() {
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (Buffer& b : buffers_) {
    auto* meta = static_cast<perf_event_mmap_page*>(b.base);
    const char* data = static_cast<const char*>(b.base) + page;
    const std::uint64_t size = b.bytes - page;
    const std::uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    std::uint64_t tail = meta->data_tail;
    // Records may wrap around the end of the buffer: copy each out before reading it.
    auto copy = [&](std::uint64_t from, std::size_t n) {
      scratch_.resize(n);
      const std::uint64_t at = from % size;
      const std::size_t first = static_cast<std::size_t>(std::min<std::uint64_t>(n, size - at));
      std::memcpy(scratch_.data(), data + at, first);
      if (first < n) std::memcpy(scratch_.data() + first, data, n - first);
    };
    while (head - tail >= sizeof(perf_event_header)) {
      copy(tail, sizeof(perf_event_header));
      const auto header = load<perf_event_header>(scratch_.data());
      if (header.size < sizeof header || header.size > head - tail) {
        tail = head;  // not a record we can trust: skip what is there
        break;
      }
      copy(tail, header.size);
      handle_record(scratch_.data(), header.size);
      tail += header.size;
    }
    __atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
  }
}

void PerfCollector::handle_record(const char* record, std::size_t size) {
  const auto header = load<perf_event_header>(record);
  const char* body = record + sizeof header;
  const std::size_t body_size = size - sizeof header;
  switch (header.type) {
    case PERF_RECORD_SAMPLE: {
      if (body_size < 16) return;
      Key key;
      key.pid = static_cast<pid_t>(load<std::uint32_t>(body));
      key.tid = static_cast<pid_t>(load<std::uint32_t>(body + 4));
      if (removed_.contains(key.pid)) return;
      const std::uint64_t nr = load<std::uint64_t>(body + 8);
      if (nr > (body_size - 16) / 8) return;
      enum { none, kernel, user } context = none;
      for (std::uint64_t i = 0; i < nr; ++i) {
        const std::uint64_t ip = load<std::uint64_t>(body + 16 + i * 8);
        if (ip >= static_cast<std::uint64_t>(PERF_CONTEXT_MAX)) {
          context = ip == static_cast<std::uint64_t>(PERF_CONTEXT_KERNEL) ? kernel
                    : ip == static_cast<std::uint64_t>(PERF_CONTEXT_USER) ? user
                                                                           : none;
          continue;
        }
        if (context == kernel) key.kernel.push_back(ip);
        if (context == user) key.user.push_back(ip);
      }
      ++stats_.samples;
      if (key.user.empty() && key.kernel.empty()) ++stats_.user_stacks_lost;
      ++counts_[std::move(key)];
      return;
    }
    case PERF_RECORD_FORK: {
      if (body_size < 16) return;
      const auto pid = static_cast<pid_t>(load<std::uint32_t>(body));
      const auto ppid = static_cast<pid_t>(load<std::uint32_t>(body + 4));
      const auto tid = static_cast<pid_t>(load<std::uint32_t>(body + 8));
      if (pid == tid && pid != ppid && removed_.contains(ppid)) removed_.insert(pid);
      if (pid == tid && pid != ppid && !removed_.contains(pid)) {
        pending_.push_back({ProcEvent::fork, pid, ppid, comm_of(ppid, ppid), {}, 0});
      }
      return;
    }
    case PERF_RECORD_COMM: {
      if (body_size < 8) return;
      const auto pid = static_cast<pid_t>(load<std::uint32_t>(body));
      const auto tid = static_cast<pid_t>(load<std::uint32_t>(body + 4));
      std::string comm(body + 8, strnlen(body + 8, body_size - 8));
      comms_[tid] = comm;
      if ((header.misc & PERF_RECORD_MISC_COMM_EXEC) != 0) {
        if (options_.may_profile && !options_.may_profile(pid)) removed_.insert(pid);
        pending_.push_back({ProcEvent::exec, pid, 0, comm, {}, 0});
      }
      return;
    }
    case PERF_RECORD_EXIT: {
      if (body_size < 16) return;
      const auto pid = static_cast<pid_t>(load<std::uint32_t>(body));
      const auto tid = static_cast<pid_t>(load<std::uint32_t>(body + 8));
      exited_.push_back(tid);  // its name is still needed for samples not yet drained
      // The main thread may leave before the others: only a process that is gone ended.
      if (pid == tid && !process_alive(pid)) pending_.push_back({ProcEvent::exit, pid, 0, {}, {}, 0});
      return;
    }
    case PERF_RECORD_LOST: {
      if (body_size < 16) return;
      stats_.counts_full += load<std::uint64_t>(body + 8);
      return;
    }
    default:
      return;
  }
}

}  // namespace hotline
