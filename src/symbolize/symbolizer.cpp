#include "symbolize/symbolizer.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "util/files.h"

namespace hotline {
namespace {

constexpr ModuleId kKernelModule = 0;
constexpr ModuleId kUnknownModule = 1;

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A copy of our own vdso image in a memfd: every process of this kernel maps the same one.
UniqueFd copy_own_vdso() {
  auto base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) return {};
  auto maps = read_maps(::getpid());
  if (!maps) return {};
  for (const auto& m : *maps) {
    if (m.path != "[vdso]" || m.start != base) continue;
    UniqueFd fd(static_cast<int>(::memfd_create("hotline-vdso", MFD_CLOEXEC)));
    if (!fd) return {};
    const auto* bytes = reinterpret_cast<const char*>(m.start);
    std::size_t size = m.end - m.start, written = 0;
    while (written < size) {
      ssize_t n = ::write(fd.get(), bytes + written, size - written);
      if (n <= 0) return {};
      written += static_cast<std::size_t>(n);
    }
    return fd;
  }
  return {};
}

}  // namespace

Symbolizer::Symbolizer(std::string kallsyms_path) : kallsyms_path_(std::move(kallsyms_path)) {
  intern_named("[kernel]");   // kKernelModule
  intern_named("[unknown]");  // kUnknownModule
}

Symbolizer::~Symbolizer() = default;

ModuleId Symbolizer::intern_named(const std::string& name) {
  auto [it, inserted] = named_.try_emplace(name, static_cast<ModuleId>(modules_.size()));
  if (inserted) {
    Module m;
    m.info.path = name;
    m.canonical = it->second;
    modules_.push_back(std::move(m));
  }
  return it->second;
}

void Symbolizer::refuse(pid_t pid, const std::string& path, const OpenedFile& file) {
  if (file.absent || file.refusal.empty()) return;
  if (refused_.insert(fmt::format("{} {}", pid, path)).second) refusals_.push_back({pid, path, file.refusal});
}

std::vector<Symbolizer::Refusal> Symbolizer::take_refusals() { return std::exchange(refusals_, {}); }

ModuleId Symbolizer::intern_file(pid_t pid, const Process& process, const Mapping& mapping) {
  auto key = std::make_tuple((std::uint64_t{mapping.dev_major} << 32) | mapping.dev_minor,
                             mapping.inode, mapping.path);
  auto [it, inserted] = files_.try_emplace(key, static_cast<ModuleId>(modules_.size()));
  if (inserted) {
    Module m;
    m.info.path = mapping.path;
    m.canonical = it->second;
    modules_.push_back(std::move(m));
  }
  Module& m = modules_[it->second];
  if (!m.fd && !m.tried && process.origin) {
    // First sight, or the file could not be opened through an earlier process (one that was
    // not dumpable, say): try through this one, by the target-file rule. map_files is the
    // exact object mapped, even if the file was since replaced or deleted (it needs
    // CAP_SYS_ADMIN); otherwise the path under the target's own root, accepted when it is the
    // inode mapped (or a regular file of the target's owner or root).
    OpenedFile file = open_mapped_file(*process.origin, pid, mapping);
    if (file) {
      m.fd = std::move(file.fd);
      m.open_path = mapping.path;
      m.search = DebugSearch{*process.origin, mapping.path};
    } else {
      refuse(pid, mapping.path, file);
    }
  }
  return it->second;
}

bool Symbolizer::snapshot(pid_t pid) {
  auto maps = read_maps(pid);
  if (!maps) return false;
  Process& process = processes_[pid];
  if (auto origin = target_origin(pid)) process.origin = std::move(origin);
  if (process.perf_map_path.empty()) {
    auto ns_pid = read_namespace_pid(pid).value_or(pid);
    process.perf_map_path = fmt::format("/tmp/perf-{}.map", ns_pid);
  }
  process.perf_map_stale = true;
  for (const Mapping& m : *maps) {
    if (!m.executable) continue;
    ModuleId id;
    if (m.is_file()) id = intern_file(pid, process, m);
    else if (m.path == "[vdso]") id = intern_named("[vdso]");
    else if (m.path.empty() || m.path.starts_with("[anon")) id = intern_named("[jit]");
    else id = intern_named(m.path);
    auto& regions = process.regions;
    auto it = regions.lower_bound(m.start);
    if (it != regions.begin() && std::prev(it)->second.end > m.start) --it;
    while (it != regions.end() && it->first < m.end) it = regions.erase(it);
    regions.emplace(m.start, Region{m.end, m.offset, id});
  }
  return true;
}

void Symbolizer::reset_process(pid_t pid) { processes_.erase(pid); }

void Symbolizer::inherit(pid_t child, pid_t parent) {
  auto it = processes_.find(parent);
  if (it == processes_.end()) return;
  Process& p = processes_[child];
  p.regions = it->second.regions;
  p.origin = it->second.origin;
}

ElfSymbolizer* Symbolizer::elf_for(ModuleId id) {
  Module& m = modules_[id];
  if (m.tried) return modules_[m.canonical].elf.get();
  m.tried = true;
  if (m.info.path == "[vdso]") {
    if (!vdso_fd_) vdso_fd_ = copy_own_vdso();
    if (!vdso_fd_) return nullptr;
    m.elf = ElfSymbolizer::open("[vdso]", ::dup(vdso_fd_.get()), "vdso");
    if (m.elf) m.elf->group_unnamed(true);
  } else if (m.fd) {
    // Only a file opened by the target-file rule; never reopened by path.
    UniqueFd fd(::fcntl(m.fd.get(), F_DUPFD_CLOEXEC, 0));
    if (fd) m.elf = ElfSymbolizer::open(m.open_path, fd.release(), basename_of(m.info.path), m.search);
  }
  if (!m.elf) return nullptr;
  m.info.opened = true;
  m.info.build_id = m.elf->build_id();
  m.info.has_dwarf = m.elf->has_dwarf();
  m.info.code_segments = m.elf->code_segments();
  if (!m.info.build_id.empty()) {
    auto [it, inserted] = by_build_id_.try_emplace(m.info.build_id, id);
    if (!inserted) {
      m.canonical = it->second;
      return modules_[m.canonical].elf.get();
    }
  }
  return m.elf.get();
}

const Symbolized* Symbolizer::cached(ModuleId module, std::uint64_t address, const auto& compute) {
  auto& per_module = cache_[module];
  auto it = per_module.find(address);
  if (it == per_module.end()) it = per_module.emplace(address, compute()).first;
  return &it->second;
}

ResolvedAddress Symbolizer::resolve_user(pid_t pid, std::uint64_t address) {
  auto unknown = [&] {
    return ResolvedAddress{kUnknownModule, 0, cached(kUnknownModule, 0, [] {
                             return Symbolized{{{"[unknown]", "", 0}}, false};
                           })};
  };
  auto pit = processes_.find(pid);
  if (pit == processes_.end()) return unknown();
  Process& process = pit->second;
  auto it = process.regions.upper_bound(address);
  if (it == process.regions.begin()) return unknown();
  --it;
  if (address >= it->second.end) return unknown();
  const ModuleId id = it->second.module;
  const std::uint64_t file_offset = address - it->first + it->second.offset;
  const std::string& path = modules_[id].info.path;

  if (path == "[jit]") {
    auto lookup = [&]() -> std::optional<std::string> {
      return process.perf_map ? process.perf_map->lookup(address) : std::nullopt;
    };
    auto name = lookup();
    if (!name && process.perf_map_stale && process.origin) {
      process.perf_map_stale = false;
      // The target writes it, in its own /tmp: by the target-file rule (a planted symlink,
      // a FIFO, another user's file are refused without blocking or reading them).
      OpenedFile file = open_in_root(*process.origin, process.perf_map_path, {kMaxPerfMapBytes, {}});
      if (file) {
        if (auto text = read_fd(file.fd.get(), kMaxPerfMapBytes)) {
          process.perf_map = std::make_unique<PerfMap>(PerfMap::parse(*text));
        }
      } else {
        refuse(pid, process.perf_map_path, file);
      }
      name = lookup();
    }
    auto [jit, inserted] = process.jit_cache.try_emplace(address);
    if (inserted) jit->second.frames.push_back({name.value_or("[jit]"), "", 0});
    return {id, address, &jit->second};
  }
  if (path.empty() || (path.front() == '[' && path != "[vdso]")) {
    return {id, 0, cached(id, 0, [&] { return Symbolized{{{path, "", 0}}, false}; })};
  }

  ElfSymbolizer* elf = elf_for(id);
  const ModuleId canonical = modules_[id].canonical;
  if (elf == nullptr) {
    return {canonical, file_offset, cached(canonical, file_offset, [&] {
              return Symbolized{{{fmt::format("[{}+{:#x}]", basename_of(path), file_offset), "", 0}}, false};
            })};
  }
  const std::uint64_t vaddr = elf->vaddr_for_offset(file_offset).value_or(file_offset);
  return {canonical, vaddr, cached(canonical, vaddr, [&] { return elf->resolve(vaddr); })};
}

ResolvedAddress Symbolizer::resolve_kernel(std::uint64_t address) {
  if (!kernel_) kernel_ = std::make_unique<KernelSymbols>(KernelSymbols::load(kallsyms_path_));
  const KernelSymbols::Symbol* sym = kernel_->lookup(address);
  if (sym == nullptr) {
    return {kKernelModule, 0, cached(kKernelModule, 0, [] {
              return Symbolized{{{"[kernel]", "", 0}}, false};
            })};
  }
  ModuleId id = sym->module.empty() ? kKernelModule : intern_named("[" + sym->module + "]");
  return {id, address, cached(id, address, [&] { return Symbolized{{{sym->name, "", 0}}, false}; })};
}

bool Symbolizer::file_has_debuginfo(const std::string& path) {
  auto elf = ElfSymbolizer::open(path, -1, basename_of(path));
  return elf && elf->has_dwarf();
}

bool Symbolizer::process_exe_has_debuginfo(pid_t pid) {
  auto origin = target_origin(pid);
  auto exe = read_exe(pid);
  if (!origin || !exe) return false;
  OpenedFile file = open_proc_link(*origin, fmt::format("/proc/{}/exe", pid), {kMaxElfBytes, {}, true});
  if (!file) return false;
  auto elf = ElfSymbolizer::open(*exe, file.fd.release(), basename_of(*exe), DebugSearch{*origin, *exe});
  return elf && elf->has_dwarf();
}

}  // namespace hotline
