#pragma once
// libbpf's messages and errors as hotline reports them, for every BPF object hotline loads.
#include <string>

#include "util/error.h"

namespace hotline {

// libbpf's own warnings only with --verbose (hotline explains failures itself), made
// printable (they name the target's files).
void use_hotline_libbpf_log();
void set_libbpf_verbose(bool verbose);

// A BPF call that failed with `err` (negative or positive errno): permission errors carry
// the capability remedy.
Error bpf_error(const std::string& what, int err);

}  // namespace hotline
