#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace hotline {

// Processes whose stacks and timing may reveal secrets (authentication, keys, passwords).
// Returns why `comm` is sensitive, or nullopt. The one list of them.
std::optional<std::string> sensitive_process(std::string_view comm);

}  // namespace hotline
