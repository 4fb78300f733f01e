#pragma once
#include <string>
#include <string_view>

namespace hotline {

// Demangles C++ (Itanium) and Rust (legacy and v0) symbol names with libiberty; returns the
// input unchanged when it is not a mangled name.
std::string demangle(std::string_view name);

}  // namespace hotline
