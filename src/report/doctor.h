#pragma once
#include <string>
#include <vector>

#include "preflight/preflight.h"

namespace hotline {

std::string render_doctor_text(const HostFacts& facts, const std::vector<Check>& checks, bool color);
std::string render_doctor_json(const HostFacts& facts, const std::vector<Check>& checks);

}  // namespace hotline
