#pragma once
// Separate debug files, found as libdwfl's standard callback finds them (by build id in the
// system debug directories; by .gnu_debuglink next to the file, in its .debug/ directory and
// under a system directory; then from debuginfod servers named in DEBUGINFOD_URLS), and the
// dwz file their DWARF points to (.gnu_debugaltlink), with one difference: every candidate
// is opened by the rule of target/target_file.h. Paths next to a module are the target's
// (no symlink followed, only regular files of its owner or root); the system directories
// are the host administrator's (symlinks followed). A candidate is taken only when its build
// id matches (or, for a module without one, the debuglink's CRC).
#include <elfutils/libdwfl.h>

#include <string>
#include <vector>

#include "target/target_file.h"

namespace hotline {

struct DebugSearch {
  FileOrigin origin;  // whose files the module's neighbours are
  std::string path;   // the module's path as that process sees it ("": system directories only)
};

// Per module, handed to the callback as its userdata.
struct DebugLookup {
  DebugSearch search;
  Inode main;  // the module's own file: never its own debug file
  Dwfl* dwfl = nullptr;
  bool alt_found = false;  // the dwz file was found (else libdw must not look for it itself)
};

// The system debug directories (default: /usr/lib/debug), for files opened afterwards.
void set_debug_directories(std::vector<std::string> dirs);
const std::vector<std::string>& debug_directories();

// Dwfl_Callbacks::find_debuginfo. `*userdata` is the module's DebugLookup (or null: nothing
// is looked for).
int find_debuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base, const char* file_name,
                   const char* debuglink_file, GElf_Word debuglink_crc, char** debuginfo_file_name);

}  // namespace hotline
