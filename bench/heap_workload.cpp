// An allocation-heavy C++ workload: builds and destroys a std::map<std::string,
// std::vector<int>> of N entries, R times, with a few side allocations, each allocation site
// in its own function (so profilers that report functions, like heaptrack's folded stacks,
// and those that report lines can be compared site by site).
// `heap_workload N R` prints the milliseconds of the work (its own clock).
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

volatile char sink;
char* volatile escape;  // a buffer that escapes cannot be elided with its delete

__attribute__((noinline)) std::string site_key(int i) {
  std::string key = "key-" + std::to_string(i);  // unique: every entry makes a map node
  key.resize(24 + static_cast<std::size_t>(i % 33), static_cast<char>('a' + i % 26));
  return key;
}

__attribute__((noinline)) std::vector<int> site_value(int i) { return std::vector<int>(static_cast<std::size_t>(i % 64 + 1), i); }

__attribute__((noinline)) void site_node(std::map<std::string, std::vector<int>>& m, std::string key,
                                         std::vector<int> value) {
  auto inserted = m.emplace(std::move(key), std::move(value));
  sink = static_cast<char>(inserted.second);  // not a tail call: this frame stays on the stack
}

__attribute__((noinline)) void site_log(std::vector<std::string>& log, int i) {
  log.emplace_back(40 + i % 8, 'x');
}

__attribute__((noinline)) void site_scratch(int i) {
  std::unique_ptr<char[]> buf(new char[4096 + i % 4096]);
  buf[0] = static_cast<char>(i);
  escape = buf.get();
  sink = escape[0];
}

__attribute__((noinline)) void site_list(std::list<int>& l, int i) { l.push_back(i); }

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  timespec a{}, b{};
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int r = 0; r < rounds; ++r) {
    std::map<std::string, std::vector<int>> m;
    std::vector<std::string> log;
    std::list<int> l;
    for (int i = 0; i < n; ++i) {
      site_node(m, site_key(i), site_value(i));
      if (i % 8 == 0) site_log(log, i);
      if (i % 32 == 0) site_scratch(i);
      if (i % 4 == 0) site_list(l, i);
    }
    sink = static_cast<char>(m.size() + log.size() + l.size());
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  std::printf("%.1f\n", static_cast<double>(b.tv_sec - a.tv_sec) * 1e3 + static_cast<double>(b.tv_nsec - a.tv_nsec) / 1e6);
  return 0;
}
