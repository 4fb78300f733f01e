#include "util/error.h"

#include <cstring>

namespace hotline {

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

}  // namespace hotline
