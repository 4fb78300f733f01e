#include "symbolize/debug_search.h"

#include <dlfcn.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

namespace hotline {
namespace {

std::vector<std::string>& directories() {
  static std::vector<std::string> dirs = {"/usr/lib/debug"};
  return dirs;
}

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

std::string basename_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string hex(const unsigned char* bits, std::size_t len) {
  std::string out;
  for (std::size_t i = 0; i < len; ++i) out += fmt::format("{:02x}", bits[i]);
  return out;
}

std::string build_id_of(int fd) {
  std::string id;
  if (elf_version(EV_CURRENT) == EV_NONE) return id;
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) return id;
  const void* bits = nullptr;
  const ssize_t len = dwelf_elf_gnu_build_id(elf, &bits);
  if (len > 0 && len <= 64) id = hex(static_cast<const unsigned char*>(bits), static_cast<std::size_t>(len));
  elf_end(elf);
  return id;
}

// The .gnu_debuglink CRC: zlib's CRC-32 of the whole file.
std::uint32_t crc_of(int fd, std::uint64_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  char buf[1 << 16];
  for (std::uint64_t offset = 0; offset < size;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(offset));
    if (n <= 0) break;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buf), static_cast<uInt>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return static_cast<std::uint32_t>(crc);
}

struct Want {
  std::string build_id;   // hex; "" when the module has none
  std::uint32_t crc = 0;  // checked when there is no build id (0: not checked)
};

bool matches(const OpenedFile& file, const Want& want) {
  if (!want.build_id.empty()) return build_id_of(file.fd.get()) == want.build_id;
  if (want.crc != 0) return crc_of(file.fd.get(), file.size) == want.crc;
  return true;
}

int take(OpenedFile& file, const std::string& path, char** name) {
  if (name != nullptr) *name = ::strdup(path.c_str());
  return file.fd.release();
}

// debuginfod_find_debuginfo, from the library libdw itself loads (when it was built with
// debuginfod support): no link-time dependency.
using FindDebuginfo = int (*)(debuginfod_client*, const unsigned char*, int, char**);
FindDebuginfo debuginfod_function() {
  static FindDebuginfo fn = [] {
    void* lib = ::dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_LOCAL);
    return lib == nullptr ? nullptr : reinterpret_cast<FindDebuginfo>(::dlsym(lib, "debuginfod_find_debuginfo"));
  }();
  return fn;
}

int from_debuginfod(DebugLookup& lookup, const Want& want, const std::string& display, char** name) {
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  if (urls == nullptr || *urls == '\0' || want.build_id.empty() || lookup.dwfl == nullptr) return -1;
  FindDebuginfo fn = debuginfod_function();
  debuginfod_client* client = fn == nullptr ? nullptr : dwfl_get_debuginfod_client(lookup.dwfl);
  if (client == nullptr) return -1;
  UniqueFd cached(fn(client, reinterpret_cast<const unsigned char*>(want.build_id.c_str()), 0, nullptr));
  if (!cached) return -1;
  // A file in hotline's own debuginfod cache: the same checks all the same.
  OpenedFile file = open_proc_link(own_origin(), fd_path(cached.get()), {kMaxElfBytes, {}});
  if (!file || !matches(file, want)) return -1;
  return take(file, display, name);
}

int find_alt(DebugLookup& lookup, Dwfl_Module* mod, const std::string& alt_name, char** name) {
  Dwarf_Addr bias = 0;
  Dwarf* dw = dwfl_module_getdwarf(mod, &bias);  // already loaded: the alt call comes after it
  const char* link = nullptr;
  const void* bits = nullptr;
  const ssize_t len = dw == nullptr ? -1 : dwelf_dwarf_gnu_debugaltlink(dw, &link, &bits);
  if (len <= 0 || len > 64) return -1;
  Want want{hex(static_cast<const unsigned char*>(bits), static_cast<std::size_t>(len)), 0};
  const FileLimits limits{kMaxElfBytes, {}};
  const FileOrigin& target = lookup.search.origin;
  for (const std::string& dir : debug_directories()) {
    const std::string path = fmt::format("{}/.build-id/{}/{}.debug", dir, want.build_id.substr(0, 2),
                                         want.build_id.substr(2));
    OpenedFile f = open_host_file(target, path, limits);
    if (f && matches(f, want)) return lookup.alt_found = true, take(f, path, name);
    const std::string dwz = fmt::format("{}/.dwz/{}", dir, basename_of(alt_name));
    OpenedFile g = open_host_file(target, dwz, limits);
    if (g && matches(g, want)) return lookup.alt_found = true, take(g, dwz, name);
  }
  // The name as the module's own file system has it (absolute, or next to the module).
  if (!lookup.search.path.empty()) {
    const std::string path = alt_name.starts_with("/") ? alt_name : dirname_of(lookup.search.path) + "/" + alt_name;
    OpenedFile f = open_in_root(target, path, limits);
    if (f && matches(f, want)) return lookup.alt_found = true, take(f, path, name);
  }
  const int fd = from_debuginfod(lookup, want, alt_name, name);
  if (fd >= 0) lookup.alt_found = true;
  return fd;
}

}  // namespace

void set_debug_directories(std::vector<std::string> dirs) { directories() = std::move(dirs); }
const std::vector<std::string>& debug_directories() { return directories(); }

int find_debuginfo(Dwfl_Module* mod, void** userdata, const char* /*modname*/, Dwarf_Addr /*base*/,
                   const char* /*file_name*/, const char* debuglink_file, GElf_Word debuglink_crc,
                   char** debuginfo_file_name) {
  if (userdata == nullptr || *userdata == nullptr) return -1;
  DebugLookup& lookup = *static_cast<DebugLookup*>(*userdata);
  GElf_Addr bias = 0;
  Elf* main = dwfl_module_getelf(mod, &bias);
  if (main == nullptr) return -1;
  GElf_Word main_crc = 0;
  const char* main_link = dwelf_elf_gnu_debuglink(main, &main_crc);
  // libdwfl calls once for the debug file (with the module's own debuglink, or none) and
  // once for the dwz file (with the name from .gnu_debugaltlink, CRC 0).
  if (debuglink_file != nullptr && debuglink_file != main_link) {
    return find_alt(lookup, mod, debuglink_file, debuginfo_file_name);
  }
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int len = dwfl_module_build_id(mod, &bits, &vaddr);
  Want want;
  if (len > 0 && len <= 64) want.build_id = hex(bits, static_cast<std::size_t>(len));
  want.crc = debuglink_crc;
  const FileLimits limits{kMaxElfBytes, {}};
  const FileOrigin& target = lookup.search.origin;

  if (!want.build_id.empty()) {
    for (const std::string& dir : debug_directories()) {
      const std::string path = fmt::format("{}/.build-id/{}/{}.debug", dir, want.build_id.substr(0, 2),
                                           want.build_id.substr(2));
      OpenedFile f = open_host_file(target, path, limits);
      if (f && matches(f, want)) return take(f, path, debuginfo_file_name);
    }
  }
  // By name: the debuglink, or (only where a build id can confirm it) FILE.debug.
  std::string link = debuglink_file != nullptr ? debuglink_file : "";
  if (link.empty() && !want.build_id.empty() && !lookup.search.path.empty()) {
    link = basename_of(lookup.search.path) + ".debug";
  }
  if (!link.empty() && link.find('/') == std::string::npos && !lookup.search.path.empty()) {
    const std::string dir = dirname_of(lookup.search.path);
    const std::string base = dir == "/" ? "" : dir;
    for (const std::string& path : {base + "/" + link, base + "/.debug/" + link}) {
      OpenedFile f = open_in_root(target, path, limits);
      if (f && f.inode != lookup.main && matches(f, want)) return take(f, path, debuginfo_file_name);
    }
    for (const std::string& sys : debug_directories()) {
      const std::string path = sys + base + "/" + link;
      OpenedFile f = open_host_file(target, path, limits);
      if (f && f.inode != lookup.main && matches(f, want)) return take(f, path, debuginfo_file_name);
    }
  }
  return from_debuginfod(lookup, want, lookup.search.path, debuginfo_file_name);
}

}  // namespace hotline
