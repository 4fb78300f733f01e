#include "symbolize/demangle.h"

#include <cstdlib>
#include <memory>

extern "C" {
#include <demangle.h>
}

namespace hotline {

std::string demangle(std::string_view name) {
  if (name.size() < 3 || !(name.starts_with("_Z") || name.starts_with("_R"))) {
    return std::string(name);
  }
  std::string input(name);
  std::unique_ptr<char, decltype(&std::free)> out(
      cplus_demangle(input.c_str(), DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO), &std::free);
  if (!out) return input;
  return std::string(out.get());
}

}  // namespace hotline
