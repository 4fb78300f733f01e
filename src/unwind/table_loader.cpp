#include "unwind/table_loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gelf.h>
#include <malloc.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "collect/map_memory.h"
#include "store/meta_keys.h"
#include "util/error.h"
#include "util/log.h"

namespace hotline {

const char* to_string(UnwindMode mode) {
  switch (mode) {
    case UnwindMode::fp: return "fp";
    case UnwindMode::automatic: return "auto";
    case UnwindMode::tables: return "tables";
  }
  return "auto";
}

bool parse_unwind_mode(const char* text, UnwindMode& out) {
  const std::string_view t(text);
  if (t == "auto") out = UnwindMode::automatic;
  else if (t == "fp") out = UnwindMode::fp;
  else if (t == "tables") out = UnwindMode::tables;
  else return false;
  return true;
}

namespace {

// A file's table is built within this (a crafted one is cut there, what was decoded kept).
constexpr std::chrono::seconds kBuildDeadline{10};

// Hash map entry overhead of one page (key + value + the kernel's htab_elem), for the budget.
constexpr std::uint64_t kPageBytes = 64;

hotline_unwind_rule to_abi(const UnwindRule& r) {
  hotline_unwind_rule out{};
  out.kind = r.kind;
  out.rbp = r.rbp;
  out.cfa_offset = r.cfa_offset;
  out.rbp_offset = r.rbp_offset;
  return out;
}

}  // namespace

TableLoader::TableLoader(const Options& options) : options_(options) {
  for (std::uint32_t slot = options_.max_tables; slot-- > 0;) free_slots_.push_back(slot);
  requests_ = ring_buffer__new(options_.maps.requests, &TableLoader::on_request, this, nullptr);
  if (requests_ == nullptr) throw Error(ExitCode::general, errno_text("cannot open the unwinder's request ring buffer", errno));
  thread_ = std::thread([this] { worker(); });
}

TableLoader::~TableLoader() {
  cancel_.store(true);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (requests_) ring_buffer__free(requests_);
}

int TableLoader::on_request(void* ctx, void* data, std::size_t size) {
  auto* self = static_cast<TableLoader*>(ctx);
  if (size < sizeof(hotline_unwind_request)) return 0;
  const auto* r = static_cast<const hotline_unwind_request*>(data);
  ++self->requests_seen_;
  const auto pid = static_cast<pid_t>(r->pid);
  if (self->tracked_.contains(pid)) self->requested_.insert(pid);
  return 0;
}

void TableLoader::prebuild(const std::string& command) {
  // The libraries nearly every target maps, as this host has them (the same inodes as a
  // target's unless it has its own root): built now, loaded when a target maps them.
  static const char* const kCommon[] = {"libc.so.", "ld-linux-x86-64.so.", "libm.so.", "libstdc++.so.", "libgcc_s.so."};
  const FileOrigin own = own_origin();
  if (!command.empty()) {  // first: its first samples are in its own code
    OpenedFile file = open_in_root(own, command, {kMaxElfBytes, {}, true});
    if (file) queue({file.inode.dev, file.inode.ino}, command, std::move(file.fd));
  }
  if (auto maps = read_maps(::getpid())) {
    for (const Mapping& m : *maps) {
      if (!m.executable || !m.is_file()) continue;
      const std::string name = m.path.substr(m.path.rfind('/') + 1);
      if (std::none_of(std::begin(kCommon), std::end(kCommon), [&](const char* c) { return name.starts_with(c); })) {
        continue;
      }
      table_for(::getpid(), &own, m);
    }
  }
}

void TableLoader::queue(const FileKey& key, const std::string& path, UniqueFd fd) {
  if (tables_.contains(key)) return;
  Table& t = tables_[key];
  t.key = key;
  t.path = path;
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({key, std::move(fd)});
  }
  wake_.notify_one();
}

void TableLoader::start(const std::vector<pid_t>& roots, const std::string& command) {
  prebuild(command);
  for (pid_t pid : roots) tracked_.insert(pid);
  // Running processes: their files' tables first (bounded: a huge binary keeps building in
  // the background), their mappings after. Until a process has mappings loaded its samples
  // take the kernel's walk, which is better than a table-less walk through code without frame
  // pointers. A launched command is still a copy of hotline until it execs: read at its exec.
  if (command.empty()) {
    for (pid_t pid : roots) {
      auto maps = read_maps(pid);
      const std::optional<FileOrigin> origin = target_origin(pid);
      if (!maps || !origin) continue;
      for (const Mapping& m : *maps) {
        if (m.executable && m.is_file()) table_for(pid, &*origin, m);
      }
    }
  }
  // For a command about to start: its own and the common libraries' tables in the maps
  // already, so that its first samples unwind.
  wait_idle(std::chrono::seconds(1));
  if (command.empty()) {
    for (pid_t pid : roots) sync(pid);
  }
  if (!command.empty()) {
    std::vector<Table*> built;
    for (auto& [key, t] : tables_) {
      if (t.state == State::built) built.push_back(&t);
    }
    install(built);
  }
}

void TableLoader::process_changed(pid_t pid, ProcessChange change) {
  tracked_.insert(pid);
  // A forked child has its parent's mappings (copied in the kernel); an exec or the loader's
  // work changes them.
  // A forked child runs its parent's mappings (copied in the kernel), table slots included: it
  // is read at once so that it holds those tables too (else the parent's exit could let them
  // be evicted and their slots reused under the child).
  sync(pid);
  if (change == ProcessChange::forked) return;
  // A new program: its own table is small and wanted at once (its first samples are in its
  // own code); a large one keeps building while the process is sampled.
  if (change == ProcessChange::executed && !waiting_.empty()) wait_idle(std::chrono::milliseconds(20));
}

void TableLoader::process_ended(pid_t pid) {
  tracked_.erase(pid);
  requested_.erase(pid);
  waiting_.erase(pid);
  const auto key = static_cast<std::uint32_t>(pid);
  bpf_map_delete_elem(options_.maps.procs, &key);
  if (auto it = uses_.find(pid); it != uses_.end()) {
    for (const FileKey& f : it->second) {
      if (auto t = tables_.find(f); t != tables_.end()) t->second.users.erase(pid);
    }
    uses_.erase(it);
  }
}

TableLoader::Table* TableLoader::table_for(pid_t pid, const FileOrigin* origin, const Mapping& m) {
  const FileKey key{makedev(m.dev_major, m.dev_minor), m.inode};
  if (auto it = tables_.find(key); it != tables_.end()) return &it->second;
  OpenedFile file = open_mapped_file(*origin, pid, m);
  if (file && !(file.inode.dev == key.dev && file.inode.ino == key.inode)) {
    file = OpenedFile{};  // its path names another file now (replaced on disk): not what runs
    file.refusal = "is not the file mapped (replaced since)";
  }
  if (!file) {
    Table& t = tables_[key];
    t.key = key;
    t.path = m.path;
    t.state = State::failed;
    t.why = file.refusal.empty() ? "cannot be opened" : file.refusal;
    return &t;
  }
  queue(key, m.path, std::move(file.fd));
  return &tables_.at(key);
}

void TableLoader::sync(pid_t pid) {
  if (!tracked_.contains(pid)) return;
  auto maps = read_maps(pid);
  if (!maps) return;
  ++syncs_;
  const std::optional<FileOrigin> origin = target_origin(pid);
  auto value = std::make_unique<hotline_unwind_proc>();
  std::set<FileKey> files;
  const auto now = std::chrono::steady_clock::now();
  // Tables built but not in the maps yet go in together first (one grace period).
  std::vector<Table*> to_install;
  for (const Mapping& m : *maps) {
    if (!m.executable || !m.is_file()) continue;
    auto it = tables_.find({makedev(m.dev_major, m.dev_minor), m.inode});
    if (it != tables_.end() && it->second.state == State::built &&
        std::find(to_install.begin(), to_install.end(), &it->second) == to_install.end()) {
      to_install.push_back(&it->second);
    }
  }
  install(to_install);
  for (const Mapping& m : *maps) {
    if (!m.executable) continue;
    if (value->count >= HOTLINE_UNWIND_MAX_MAPPINGS) {
      ++mappings_dropped_;
      continue;
    }
    hotline_unwind_mapping& e = value->mappings[value->count++];
    e.start = m.start;
    e.end = m.end;
    e.table = HOTLINE_UNWIND_TABLE_NONE;
    if (!m.is_file() || !origin) continue;
    Table* t = table_for(pid, &*origin, m);
    const FileKey key{makedev(m.dev_major, m.dev_minor), m.inode};
    files.insert(key);
    t->users.insert(pid);
    t->last_used = now;
    if (t->state == State::building) waiting_.insert(pid);
    if (t->state == State::built) install({t});  // first seen in this pass
    if (t->state != State::ready) continue;
    for (const LoadSegment& s : t->segments) {
      // The executable segment this mapping holds: its page-aligned start may be below the
      // segment's own offset (lld places code at an unaligned offset in the same page).
      const std::uint64_t page_start = s.offset & ~std::uint64_t{0xfff};
      if (m.offset < page_start || m.offset >= s.offset + s.filesz) continue;
      // file address = ip - bias (modulo 2^64: a PIE's bias is its load address)
      e.bias = m.start - m.offset - (s.vaddr - s.offset);
      e.table = t->slot;
      break;
    }
  }
  // Files it no longer maps.
  std::set<FileKey>& before = uses_[pid];
  for (const FileKey& f : before) {
    if (files.contains(f)) continue;
    if (auto t = tables_.find(f); t != tables_.end()) t->second.users.erase(pid);
  }
  before = std::move(files);
  const auto key = static_cast<std::uint32_t>(pid);
  bpf_map_update_elem(options_.maps.procs, &key, value.get(), BPF_ANY);
}

void TableLoader::worker() {
  if (elf_version(EV_CURRENT) == EV_NONE) return;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    Built built;
    built.key = job.key;
    const auto t0 = std::chrono::steady_clock::now();
    Elf* elf = elf_begin(job.fd.get(), ELF_C_READ_MMAP, nullptr);
    GElf_Ehdr ehdr{};
    if (elf == nullptr || elf_kind(elf) != ELF_K_ELF || gelf_getehdr(elf, &ehdr) == nullptr) {
      built.why = "not an ELF file";
    } else if (ehdr.e_machine != EM_X86_64) {
      built.why = "not an x86-64 ELF file";
    } else {
      std::size_t count = 0;
      if (elf_getphdrnum(elf, &count) == 0) {
        for (std::size_t i = 0; i < count && i < 4096; ++i) {
          GElf_Phdr ph{};
          if (gelf_getphdr(elf, static_cast<int>(i), &ph) == nullptr || ph.p_type != PT_LOAD) continue;
          if ((ph.p_flags & PF_X) == 0) continue;  // only code is unwound
          built.segments.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz});
        }
      }
      CfiLimits limits;
      limits.deadline = std::chrono::steady_clock::now() + kBuildDeadline;
      limits.cancel = &cancel_;
      built.table = build_cfi_table(elf, built.why, limits);
    }
    if (elf != nullptr) elf_end(elf);
    // libdw's frames and the rows' growth are freed by now: give the worker's arena back.
    ::malloc_trim(0);
    built.took = std::chrono::steady_clock::now() - t0;
    lock.lock();
    built_.push_back(std::move(built));
    busy_ = false;
    idle_.notify_all();
  }
}

bool TableLoader::make_room(std::uint64_t bytes) {
  while (bytes_ + bytes > options_.max_bytes || free_slots_.empty()) {
    Table* oldest = nullptr;
    for (auto& [key, t] : tables_) {
      if (t.state != State::ready || !t.users.empty()) continue;
      if (oldest == nullptr || t.last_used < oldest->last_used) oldest = &t;
    }
    if (oldest == nullptr) return false;
    evict(*oldest);
    ++evictions_;
  }
  return true;
}

void TableLoader::evict(Table& t) {
  uninstall(t);
  const FileKey key = t.key;
  tables_.erase(key);  // a process mapping it later builds it again
}

void TableLoader::uninstall(Table& t) {
  // Its pages, then its slot.
  for (std::uint32_t page : t.pages) {
    hotline_unwind_page_key k{t.slot, page};
    bpf_map_delete_elem(options_.maps.pages, &k);
  }
  if (t.slot != HOTLINE_UNWIND_TABLE_NONE) {
    bpf_map_delete_elem(options_.maps.tables, &t.slot);
    free_slots_.push_back(t.slot);
  }
  bytes_ -= std::min(bytes_, t.bytes);
  t.pages.clear();
  t.rows_fd.reset();
  t.slot = HOTLINE_UNWIND_TABLE_NONE;
  t.bytes = 0;
  t.state = State::failed;
  t.why = "evicted";
}

void TableLoader::receive(Built& built) {
  auto it = tables_.find(built.key);
  if (it == tables_.end()) return;
  Table& t = it->second;
  build_time_ += built.took;
  t.took = built.took;
  if (!built.table) {
    t.state = State::failed;
    t.why = built.why;
    if (options_.verbose) info(fmt::format("no unwind table for {}: {}", t.path, t.why));
    return;
  }
  t.state = State::built;
  t.built = std::move(built.table);
  t.segments = std::move(built.segments);
}

void TableLoader::install(const std::vector<Table*>& tables) {
  auto fail = [&](Table& t, std::string why) {
    t.state = State::failed;
    t.why = std::move(why);
    t.built.reset();
    if (options_.verbose) info(fmt::format("no unwind table for {}: {}", t.path, t.why));
  };
  struct Prepared {
    Table* table;
    PagedRows paged;
    UniqueFd rows;
    std::uint32_t slot;
  };
  std::vector<Prepared> ready;
  for (Table* tp : tables) {
    Table& t = *tp;
    const CfiTable& table = *t.built;
    // Rules first: every distinct one gets an index in the shared map.
    std::map<UnwindRule, std::uint32_t> fresh;
    for (const UnwindRow& row : table.rows) {
      if (!rules_.contains(row.rule) && !fresh.contains(row.rule)) {
        fresh.emplace(row.rule, static_cast<std::uint32_t>(rules_.size() + fresh.size()));
      }
    }
    if (rules_.size() + fresh.size() > options_.max_rules) {
      fail(t, "the shared rules map is full");
      continue;
    }
    bool stored = true;
    for (const auto& [rule, index] : fresh) {
      const hotline_unwind_rule abi = to_abi(rule);
      if (bpf_map_update_elem(options_.maps.rules, &index, &abi, BPF_ANY) != 0) {
        stored = false;
        break;
      }
      rules_.emplace(rule, index);
    }
    if (!stored) {
      fail(t, errno_text("cannot store its rules", errno));
      continue;
    }
    PagedRows paged = page_rows(table, [&](const UnwindRule& r) { return rules_.at(r); });
    const std::uint64_t bytes = paged.rows.size() * 4 + paged.pages.size() * kPageBytes;
    if (!make_room(bytes)) {
      ++over_budget_;
      fail(t, fmt::format("the tables' memory budget ({} MiB) is used by files still mapped", options_.max_bytes >> 20));
      continue;
    }
    if (free_slots_.empty()) {
      fail(t, "every table slot is in use");
      continue;
    }
    bpf_map_create_opts opts{};
    opts.sz = sizeof(opts);
    opts.map_flags = BPF_F_INNER_MAP;
    UniqueFd rows(bpf_map_create(BPF_MAP_TYPE_ARRAY, "hl_unwind_rows", 4, 4,
                                 static_cast<std::uint32_t>(paged.rows.size()), &opts));
    if (!rows) {
      fail(t, errno_text("cannot create its BPF map", errno));
      continue;
    }
    std::vector<std::uint32_t> keys(paged.rows.size());
    for (std::uint32_t i = 0; i < keys.size(); ++i) keys[i] = i;
    bool filled = true;
    for (std::size_t done = 0; done < keys.size();) {
      auto count = static_cast<std::uint32_t>(std::min<std::size_t>(keys.size() - done, 1u << 16));
      if (bpf_map_update_batch(rows.get(), keys.data() + done, paged.rows.data() + done, &count, nullptr) != 0) {
        filled = false;
        break;
      }
      done += count;
    }
    if (!filled) {
      fail(t, errno_text("cannot fill its BPF map", errno));
      continue;
    }
    t.bytes = bytes;
    bytes_ += bytes;
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    ready.push_back({&t, std::move(paged), std::move(rows), slot});
  }
  if (ready.empty()) return;
  // Into the table of tables all at once: each update of a map of maps waits for an RCU grace
  // period (milliseconds), a batch waits once.
  std::vector<std::uint32_t> slots;
  std::vector<std::uint32_t> fds;
  for (const Prepared& p : ready) {
    slots.push_back(p.slot);
    fds.push_back(static_cast<std::uint32_t>(p.rows.get()));
  }
  auto count = static_cast<std::uint32_t>(slots.size());
  std::vector<bool> installed(slots.size(), true);
  if (bpf_map_update_batch(options_.maps.tables, slots.data(), fds.data(), &count, nullptr) != 0) {
    for (std::size_t i = count; i < slots.size(); ++i) {  // no batch support: one at a time
      installed[i] = bpf_map_update_elem(options_.maps.tables, &slots[i], &fds[i], BPF_ANY) == 0;
    }
  }
  for (std::size_t r = 0; r < ready.size(); ++r) {
    Prepared& p = ready[r];
    Table& t = *p.table;
    if (!installed[r]) {
      free_slots_.push_back(p.slot);
      bytes_ -= std::min(bytes_, t.bytes);
      t.bytes = 0;
      fail(t, errno_text("cannot install its BPF map", errno));
      continue;
    }
    t.slot = p.slot;
    t.rows_fd = std::move(p.rows);
    bool paged_in = true;
    int err = 0;
    for (const auto& page : p.paged.pages) {
      hotline_unwind_page_key k{p.slot, page.page};
      hotline_unwind_page v{page.first, page.count};
      if (bpf_map_update_elem(options_.maps.pages, &k, &v, BPF_ANY) != 0) {
        err = errno;
        paged_in = false;
        break;
      }
      t.pages.push_back(page.page);
    }
    if (!paged_in) {
      uninstall(t);  // nothing of it is left half-loaded
      fail(t, errno_text("the pages map is full", err));
      continue;
    }
    t.rows = p.paged.rows.size();
    t.state = State::ready;
    if (options_.verbose) {
      info(fmt::format("unwind table for {}: {} rows from {} FDEs in {} ({:.1f} ms, {} KiB)", t.path, t.rows,
                       t.built->fdes, t.built->section, std::chrono::duration<double, std::milli>(t.took).count(),
                       t.bytes >> 10));
    }
    t.built.reset();
  }
}

void TableLoader::tick() {
  ring_buffer__poll(requests_, 0);
  std::vector<Built> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(built_);
  }
  for (Built& b : done) receive(b);
  std::set<pid_t> again;
  again.swap(requested_);
  if (!done.empty()) {
    again.insert(waiting_.begin(), waiting_.end());
    waiting_.clear();
  }
  for (pid_t pid : again) sync(pid);
}

bool TableLoader::wait_idle(std::chrono::milliseconds timeout) {
  bool idle = false;
  {
    std::unique_lock lock(mutex_);
    idle = idle_.wait_for(lock, timeout, [&] { return jobs_.empty() && !busy_; });
  }
  tick();
  return idle;
}

std::vector<StackSample> TableLoader::drain() {
  tick();
  return {};
}

MetaEntries TableLoader::meta() const {
  std::size_t ready = 0, failed = 0, rows = 0;
  for (const auto& [key, t] : tables_) {
    if (t.state == State::ready) {
      ++ready;
      rows += t.rows;
    } else if (t.state == State::failed) {
      ++failed;
    }
  }
  return {
      {meta_key::unwind_tables, std::to_string(ready)},
      {meta_key::unwind_tables_failed, std::to_string(failed)},
      {meta_key::unwind_table_rows, std::to_string(rows)},
      {meta_key::unwind_table_bytes, std::to_string(bytes_)},
      {meta_key::unwind_table_build_ms,
       fmt::format("{:.1f}", std::chrono::duration<double, std::milli>(build_time_).count())},
      {meta_key::unwind_tables_over_budget, std::to_string(over_budget_)},
      {meta_key::unwind_mapping_reads, std::to_string(syncs_)},
  };
}

std::uint64_t TableLoader::map_bytes() const {
  std::uint64_t total = 0;
  for (const auto& [key, t] : tables_) {
    if (t.rows_fd) total += map_memory::locked(t.rows_fd.get());
  }
  return total;  // the shared maps are the process tracker's, counted there
}

}  // namespace hotline
