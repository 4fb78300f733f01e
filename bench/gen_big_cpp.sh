#!/usr/bin/env bash
# Generates a large C++ program with heavy template use and inlining (-O2 -g), for the
# symbolization benchmark: N translation units (default 24), each instantiating standard
# containers and algorithms for 40 distinct types.
# Usage: bench/gen_big_cpp.sh OUT_DIR [N]
set -euo pipefail
out=$1
n=${2:-24}
mkdir -p "$out"
for ((i = 0; i < n; i++)); do
  cat > "$out/tu$i.cpp" <<CPP
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>
namespace tu$i {
template <int K> struct Item {
  int values[K % 7 + 1];
  std::string name;
  bool operator<(const Item& o) const { return name < o.name; }
};
template <int K> __attribute__((noinline)) long work(int n) {
  std::map<std::string, std::vector<Item<K>>> groups;
  for (int j = 0; j < n; ++j) groups[std::to_string(j % (K + 3))].push_back(Item<K>{{j}, std::to_string(j)});
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), K);
  std::sort(v.begin(), v.end(), [](int a, int b) { return (a * 7) % 13 < (b * 7) % 13; });
  std::unordered_map<int, std::string> names;
  for (int x : v) names.emplace(x, std::to_string(x * K));
  std::set<Item<K>> ordered;
  for (auto& [key, items] : groups) for (auto& it : items) ordered.insert(it);
  std::ostringstream os;
  for (auto& [k, s] : names) os << k << s;
  std::function<long(long)> f = [&](long x) { return x + static_cast<long>(ordered.size()); };
  return f(static_cast<long>(os.str().size() + groups.size()));
}
long run(int n) {
  long total = 0;
$(for ((k = 0; k < 40; k++)); do echo "  total += work<$k>(n);"; done)
  return total;
}
}  // namespace tu$i
CPP
done
{
  for ((i = 0; i < n; i++)); do echo "namespace tu$i { long run(int n); }"; done
  echo "int main(int argc, char**) { long t = 0;"
  for ((i = 0; i < n; i++)); do echo "  t += tu$i::run(argc);"; done
  echo "  return static_cast<int>(t & 1); }"
} > "$out/main.cpp"
