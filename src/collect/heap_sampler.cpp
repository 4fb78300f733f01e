#include "collect/heap_sampler.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "hotline_heap_abi.h"
#include "util/error.h"

namespace hotline {

// The library's bytes, embedded at build time (preload/CMakeLists.txt).
extern "C" const unsigned char hotline_preload_library[];
extern "C" const unsigned long hotline_preload_library_size;

namespace {

UniqueFd sealed_library() {
  UniqueFd fd(::memfd_create("hotline-heap", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) throw Error(ExitCode::general, errno_text("heap sampler: cannot create its memfd", errno));
  const unsigned char* p = hotline_preload_library;
  std::size_t left = hotline_preload_library_size;
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(ExitCode::general, errno_text("heap sampler: cannot write its memfd", errno));
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  // Nobody, the command included, can change the code it is about to load.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
    throw Error(ExitCode::general, errno_text("heap sampler: cannot seal its memfd", errno));
  }
  return fd;
}

}  // namespace

HeapSampler::HeapSampler(std::uint64_t mean_bytes, bool restricted)
    : mean_(mean_bytes), restricted_(restricted), library_(sealed_library()) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    throw Error(ExitCode::general, errno_text("heap sampler: cannot create its socket pair", errno));
  }
  ours_.reset(sv[0]);
  theirs_.reset(sv[1]);
  // Room for bursts while the reader is descheduled (the kernel caps it at wmem_max).
  // Beyond wmem_max when allowed (CAP_NET_ADMIN): a sender blocks only when it is full.
  int bytes = 8 << 20;
  if (::setsockopt(theirs_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(theirs_.get(), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) throw Error(ExitCode::general, errno_text("cannot create a pipe", errno));
  stop_read_.reset(p[0]);
  stop_write_.reset(p[1]);
}

HeapSampler::~HeapSampler() {
  if (reader_.joinable()) {
    char c = 0;
    ssize_t ignored = ::write(stop_write_.get(), &c, 1);
    (void)ignored;
    reader_.join();
  }
}

std::vector<int> HeapSampler::inherited_fds() const { return {library_.get(), theirs_.get()}; }

std::vector<std::string> HeapSampler::environment(const std::vector<std::string>& base) const {
  const std::string library = fmt::format("/proc/self/fd/{}", library_.get());
  std::vector<std::string> env;
  std::string preload = library;
  for (const std::string& kv : base) {
    if (kv.starts_with("LD_PRELOAD=")) {
      if (kv.size() > 11) preload += ":" + kv.substr(11);
    } else if (!kv.starts_with(HOTLINE_HEAP_ENV_FD "=") && !kv.starts_with(HOTLINE_HEAP_ENV_PEER "=") &&
               !kv.starts_with(HOTLINE_HEAP_ENV_SAMPLE "=") && !kv.starts_with(HOTLINE_HEAP_ENV_RESTRICTED "=")) {
      env.push_back(kv);
    }
  }
  env.push_back("LD_PRELOAD=" + preload);
  env.push_back(fmt::format("{}={}", HOTLINE_HEAP_ENV_FD, theirs_.get()));
  env.push_back(fmt::format("{}={}", HOTLINE_HEAP_ENV_PEER, ::getpid()));
  env.push_back(fmt::format("{}={}", HOTLINE_HEAP_ENV_SAMPLE, mean_));
  if (restricted_) env.push_back(fmt::format("{}=1", HOTLINE_HEAP_ENV_RESTRICTED));
  return env;
}

void HeapSampler::started() {
  theirs_.reset();
  library_.reset();
  reader_ = std::thread([this] { read_loop(); });
}

void HeapSampler::finish() {
  if (!reader_.joinable()) return;
  char c = 0;
  ssize_t ignored = ::write(stop_write_.get(), &c, 1);
  (void)ignored;
  reader_.join();
}

void HeapSampler::read_loop() {
  hotline_heap_msg msg{};
  // Reads every queued datagram; false at end of stream (every sender has exited).
  auto read_all = [&]() {
    while (true) {
      ssize_t n = ::recv(ours_.get(), &msg, sizeof msg, MSG_DONTWAIT | MSG_TRUNC);
      if (n > 0) {
        handle(&msg, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  };
  // Not woken per datagram: a reader sleeping on the socket would make every sampled
  // allocation pay for a cross-CPU wake-up (tens of microseconds in a VM). It looks every
  // few milliseconds instead; the socket buffer holds thousands of samples meanwhile.
  pollfd stop{stop_read_.get(), POLLIN, 0};
  while (true) {
    if (!read_all()) return;  // end of stream
    int r = ::poll(&stop, 1, 5);
    if (r < 0 && errno != EINTR) return;
    if (r > 0) {
      read_all();  // the command has exited: everything it sent is queued already
      return;
    }
  }
}

void HeapSampler::handle(const void* data, std::size_t len) {
  const auto* m = static_cast<const hotline_heap_msg*>(data);
  std::lock_guard lock(mutex_);
  if (len < HOTLINE_HEAP_MSG_HEADER || len > sizeof(hotline_heap_msg) || (len - HOTLINE_HEAP_MSG_HEADER) % 8 != 0) {
    ++stats_.bad_messages;
    return;
  }
  const pid_t pid = static_cast<pid_t>(m->pid);
  auto release = [&](const LiveKey& key) {
    auto it = live_.find(key);
    if (it == live_.end()) return false;
    Site& site = sites_[it->second.site].second;
    site.free_bytes += it->second.bytes;
    site.free_count += it->second.count;
    live_.erase(it);
    return true;
  };
  switch (m->kind) {
    case HOTLINE_HEAP_MSG_HELLO:
      if (m->ptr != HOTLINE_HEAP_ABI_VERSION || m->size == 0) {
        ++stats_.bad_messages;
        return;
      }
      mean_by_pid_[pid] = m->size;
      ++stats_.processes;
      return;
    case HOTLINE_HEAP_MSG_ALLOC: {
      auto mean_it = mean_by_pid_.find(pid);
      const double mean = static_cast<double>(mean_it != mean_by_pid_.end() ? mean_it->second : mean_);
      const double size = static_cast<double>(m->size);
      // Sampled with probability 1 - exp(-size/mean): weighted by its inverse.
      const double p = std::max(-std::expm1(-size / mean), 1e-12);
      SiteKey key{pid, std::vector<std::uint64_t>(m->frames, m->frames + (len - HOTLINE_HEAP_MSG_HEADER) / 8)};
      auto [it, inserted] = site_ids_.try_emplace(std::move(key), static_cast<std::uint32_t>(sites_.size()));
      if (inserted) sites_.emplace_back(&it->first, Site{});
      Site& site = sites_[it->second].second;
      site.alloc_bytes += size / p;
      site.alloc_count += 1 / p;
      const LiveKey lk{pid, m->ptr};
      release(lk);  // a block we never saw freed (a failed realloc): it cannot be live twice
      live_[lk] = Live{it->second, size / p, 1 / p};
      ++stats_.samples;
      return;
    }
    case HOTLINE_HEAP_MSG_FREE:
      if (release(LiveKey{pid, m->ptr})) {
        ++stats_.frees;
      } else {
        ++stats_.untracked_frees;
      }
      return;
    case HOTLINE_HEAP_MSG_DROPPED:
      stats_.dropped += m->size;
      return;
    default:
      ++stats_.bad_messages;
  }
}

std::vector<HeapDelta> HeapSampler::drain() {
  std::lock_guard lock(mutex_);
  std::vector<HeapDelta> out;
  for (auto& [key, site] : sites_) {
    auto round = [](double v) { return static_cast<std::uint64_t>(std::llround(v)); };
    const std::uint64_t ab = round(site.alloc_bytes), ac = round(site.alloc_count), fb = round(site.free_bytes),
                        fc = round(site.free_count);
    if (ab == site.sent_alloc_bytes && ac == site.sent_alloc_count && fb == site.sent_free_bytes &&
        fc == site.sent_free_count) {
      continue;
    }
    HeapDelta d;
    d.pid = key->pid;
    d.user_ips = key->frames;
    d.alloc_bytes = ab - site.sent_alloc_bytes;
    d.alloc_count = ac - site.sent_alloc_count;
    d.free_bytes = fb - site.sent_free_bytes;
    d.free_count = fc - site.sent_free_count;
    site.sent_alloc_bytes = ab;
    site.sent_alloc_count = ac;
    site.sent_free_bytes = fb;
    site.sent_free_count = fc;
    out.push_back(std::move(d));
  }
  return out;
}

SampledHeapStats HeapSampler::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace hotline
