// hotline's command line: parse, call, map errors to exit codes. No logic beyond wiring.
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "preflight/preflight.h"
#include "record/recorder.h"
#include "report/diff.h"
#include "report/doctor.h"
#include "report/export.h"
#include "report/query_render.h"
#include "report/heap_top.h"
#include "report/events_report.h"
#include "report/offcpu_top.h"
#include "report/wall_top.h"
#include "report/top.h"
#include "store/query.h"
#include "store/reader.h"
#include "target/proc.h"
#include "tui/tui.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"
#include "util/text.h"

#ifndef HOTLINE_VERSION
#define HOTLINE_VERSION "0.0.0"
#endif

namespace hotline {
namespace {

// `hotline --pid N` and `hotline -- CMD` mean `hotline record ...`.
std::vector<std::string> normalize_args(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0].starts_with("-") && args[0] != "-h" && args[0] != "--help" &&
      args[0] != "--version") {
    args.insert(args.begin(), "record");
  }
  return args;
}

pid_t pick_process(const std::string& name) {
  auto matches = find_processes_by_name(name);
  if (matches.empty()) {
    throw Error(ExitCode::not_found, fmt::format("no running process whose name contains '{}'", name),
                "check the name with ps -e, or give the pid with --pid");
  }
  if (matches.size() > 1) {
    for (const auto& m : matches) write_text_stdout(fmt::format("PID {}: {}\n", m.pid, printable(m.comm)));
    throw Error(ExitCode::invalid_args,
                fmt::format("{} processes match '{}'", matches.size(), name),
                "choose one with --pid");
  }
  return matches.front().pid;
}

// Checks CLI11 leaves to the caller: NaN passes every range check, 2^64 wraps to a
// number, an empty string is a valid string.
const CLI::Validator kFinite(
    [](std::string& s) -> std::string {
      try {
        std::size_t used = 0;
        const double v = std::stod(s, &used);
        if (used == s.size() && std::isfinite(v)) return "";
      } catch (...) {
      }
      return "must be a finite number, e.g. 2.5";
    },
    "NUMBER", "finite");
const CLI::Validator kCount(
    [](std::string& s) -> std::string {
      std::uint64_t v = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size() && v >= 1 && v <= 1000000000) return "";
      return "must be a whole number from 1 to 1000000000, e.g. 20";
    },
    "COUNT", "count");
const CLI::Validator kFileName(
    [](std::string& s) -> std::string { return s.empty() ? "must be a file name, not empty" : ""; }, "FILE",
    "file name");

struct TopFlags {
  std::string file;
  std::size_t top = 20;
  double threshold = 0;
  std::string since, until, window, filter, by = "line";
  bool json = false, csv = false;
};

TopOptions to_top_options(const TopFlags& f) {
  TopOptions o;
  o.top = f.top;
  o.threshold_pct = f.threshold;
  if (!f.since.empty()) o.window.since = parse_duration(f.since);
  if (!f.until.empty()) o.window.until = parse_duration(f.until);
  if (!f.window.empty()) o.window.range = parse_window(f.window);
  o.filter = f.filter;
  o.by = f.by == "function" ? GroupBy::function : f.by == "file" ? GroupBy::file : GroupBy::line;
  return o;
}

// The options `top cpu` and `top heap` share.
void add_top_options(CLI::App* sub, TopFlags& f, const std::string& threshold_help, bool by_thread = false) {
  sub->add_option("file", f.file, "Recording file")->required();
  sub->add_option("--top,-n", f.top, "Show this many entries (1 to 1000000000)")->capture_default_str()->check(kCount);
  sub->add_option("--threshold", f.threshold, threshold_help)->check(kFinite)->check(CLI::Range(0.0, 100.0));
  auto* since = sub->add_option("--since", f.since, "Only the last D of the recording (e.g. 10s)");
  auto* until = sub->add_option("--until", f.until, "Only the first D of the recording");
  sub->add_option("--window", f.window, "Only the time range A..B from the start (e.g. 5s..15s, ..10s, 1m..)")
      ->excludes(since)
      ->excludes(until);
  sub->add_option("--filter", f.filter, "Only entries whose function or file contains TEXT (case-insensitive)");
  std::vector<std::string> by = {"line", "function", "file"};
  if (by_thread) by.emplace_back("thread");
  sub->add_option("--by", f.by, by_thread ? "Group by line, function or file; or each thread's running and blocked time"
                                          : "Group by line, function or file")
      ->check(CLI::IsMember(by))
      ->capture_default_str();
  auto* json = sub->add_flag("--json", f.json, "JSON output");
  auto* csv = sub->add_flag("--csv", f.csv, "CSV output");
  json->excludes(csv);
}

// "rec" for "some/dir/rec.db": default export names are made from the recording's.
std::string recording_stem(const std::string& path) {
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (name.ends_with(".db")) name.resize(name.size() - 3);
  return name.empty() ? "profile" : name;
}

// An export to OUT (created 0600), or standard output; a page or binary profile is not
// written to a terminal: it goes to TERMINAL_NAME in the current directory instead.
void write_export(const std::string& bytes, std::string out, bool force, const std::string& terminal_name) {
  const bool named_for_terminal = out.empty() && !terminal_name.empty() && ::isatty(STDOUT_FILENO);
  if (named_for_terminal) out = terminal_name;
  if (out.empty()) {
    write_stdout(bytes);
    return;
  }
  UniqueFd fd = create_private_file(out, force);
  write_all(fd.get(), bytes, out);
  if (named_for_terminal || ::isatty(STDERR_FILENO)) {
    (void)std::fprintf(stderr, "hotline: wrote %s (%zu bytes)\n", printable(out).c_str(), bytes.size());
  }
}

int run(int argc, char** argv) {
  CLI::App app{"hotline: which source lines burn CPU, live or recorded (eBPF, SQLite recordings)", "hotline"};
  app.set_version_flag("--version", std::string("hotline ") + HOTLINE_VERSION);
  app.require_subcommand(1, 1);
  app.footer(
      "Examples:\n"
      "  hotline record --pid 1234 --duration 30s\n"
      "  hotline record -- ./server --port 8080\n"
      "  hotline top cpu hotline.server.251123101500.db --since 10s\n"
      "  hotline view rec.db            # the terminal UI on a recording\n"
      "  hotline export rec.db -o rec.html   # interactive flame graph\n"
      "  hotline query rec.db \"SELECT key, value FROM meta\"\n"
      "  hotline doctor                 # what this host allows, and how to fix what it does not\n"
      "'hotline --pid N' is short for 'hotline record --pid N'.\n"
      "Exit codes: 0 ok, 1 error, 2 invalid arguments, 3 process not found, 4 permission denied,\n"
      "5 missing debug info (--require-debuginfo), 6 database error.");

  // record
  RecordOptions ro;
  int pid = 0;
  std::string process, interval = "1s", duration, cpu_freq_env, heap_mode = "auto", heap_probes = "per-process",
              unwind = "auto";
  auto* rec = app.add_subcommand("record", "Record CPU samples of a process (--pid, --process) or a command (-- CMD)");
  rec->add_option("--pid,-p", pid, "Profile the running process with this pid (and the processes it forks)")
      ->check(CLI::PositiveNumber);
  rec->add_option("--process", process, "Profile the running process whose name contains TEXT (exactly one must match)");
  rec->add_option("--cpu-freq,-F", ro.cpu_freq_hz, "Samples per second per CPU (1..5000)")
      ->check(CLI::Range(1, 5000))
      ->envname("HOTLINE_CPU_FREQ")
      ->capture_default_str();
  rec->add_option("--interval", interval, "Checkpoint interval: how often samples are committed (e.g. 1s, 500ms)")
      ->envname("HOTLINE_INTERVAL")
      ->capture_default_str();
  rec->add_option("--duration,-d", duration, "Stop after this long (30s, 5m, 2h, 1h30m, 500ms, or seconds); "
                                            "default: until Ctrl-C or the target exits");
  rec->add_option("--output,-o", ro.output, "Recording file (default: hotline.COMM.YYMMDDhhmmss.db in "
                                           "$HOTLINE_OUTPUT_DIR or the current directory)")
      ->check(kFileName);
  rec->add_flag("--force,-f", ro.force, "Replace the output file if it exists");
  bool no_view = false;
  rec->add_flag("--quiet,-q", ro.quiet, "Record only: no live view, nothing printed but warnings and errors");
  rec->add_flag("--no-view", no_view, "Print progress lines instead of the live view (which is shown when standard "
                                      "input and output are a terminal)");
  rec->add_flag("--verbose,-v", ro.verbose, "Print details about the collectors");
  rec->add_flag("--require-debuginfo", ro.require_debuginfo,
                "Fail (exit 5) if the main executable has no DWARF debug info");
  rec->add_option("--map-scale", ro.map_scale, "Multiply the BPF map sizes (more stacks per checkpoint, more memory)")
      ->check(kFinite)
      ->check(CLI::Range(0.01, 64.0))
      ->capture_default_str();
  rec->add_option("--cpu-backend", ro.cpu_backend,
                  "How CPU samples are taken: bpf (BPF sampler), perf (perf_event callchains, no BPF: for "
                  "callers without CAP_BPF), auto (bpf when possible, else perf, announced)")
      ->check(CLI::IsMember({"auto", "bpf", "perf"}))
      ->envname("HOTLINE_CPU_BACKEND")
      ->capture_default_str();
  rec->add_option("--heap", heap_mode,
                  "Heap profiling: sampled (a library preloaded into a launched command samples allocations "
                  "by bytes: cheap), exact (uprobes on the allocator: every allocation, microseconds each), off, "
                  "or auto (sampled for launched commands, exact for --pid/--process targets)")
      ->check(CLI::IsMember({"auto", "exact", "sampled", "off"}))
      ->envname("HOTLINE_HEAP")
      ->capture_default_str();
  rec->add_option("--max-overhead", ro.max_overhead_pct,
                  "Heap exact mode: detach the heap probes when the target's first second projects a slowdown "
                  "above this percentage (CPU profiling continues); 100 or more keeps them whatever the cost")
      ->check(kFinite)
      ->check(CLI::Range(0.0, 1000000.0))
      ->capture_default_str();
  rec->add_option("--heap-probes", heap_probes,
                  "Heap exact mode: per-process (probes only in the profiled processes; a child is probed when "
                  "hotline sees it fork) or shared (one set per file for every process mapping it: children are "
                  "followed from their first allocation, but every other process on the host, hotline included, "
                  "traps on its allocator calls meanwhile; needs CAP_SYS_PTRACE)")
      ->check(CLI::IsMember({"per-process", "shared"}))
      ->envname("HOTLINE_HEAP_PROBES")
      ->capture_default_str();
  rec->add_option("--heap-sample-bytes", ro.heap_sample_bytes,
                  "Heap sampled mode: mean bytes allocated between two samples (smaller: more precise, costlier)")
      ->check(CLI::Range(static_cast<std::uint64_t>(1), static_cast<std::uint64_t>(1) << 34))
      ->envname("HOTLINE_HEAP_SAMPLE_BYTES")
      ->capture_default_str();
  rec->add_option("--unwind", unwind,
                  "How user stacks are unwound: tables (from each file's .eh_frame, inside the kernel: complete "
                  "stacks through code without frame pointers), fp (frame pointers only, the kernel's walk), or "
                  "auto (tables where a file has them, frame pointers elsewhere). The perf_event sampler (--cpu-backend "
                  "perf) unwinds by frame pointers only")
      ->check(CLI::IsMember({"auto", "fp", "tables"}))
      ->envname("HOTLINE_UNWIND")
      ->capture_default_str();
  std::string offcpu_min = "1us";
  rec->add_flag("--offcpu", ro.offcpu,
                "Also record off-CPU time: where threads wait while not runnable (sleeps, locks, pipes, sockets, "
                "disk), per line and kernel reason ('hotline top offcpu'); needs the BPF backend")
      ->envname("HOTLINE_OFFCPU");
  rec->add_option("--offcpu-min", offcpu_min,
                  "With --offcpu: blocks shorter than this are not counted (500ns, 1us, 2ms, ...)")
      ->capture_default_str();
  rec->add_option("command", ro.command, "Command to launch and profile, after --");

  // top
  TopFlags tf;
  auto* top = app.add_subcommand("top", "Show the hottest source lines of a recording");
  top->require_subcommand(1, 1);
  auto* top_cpu = top->add_subcommand("cpu", "Hottest lines by CPU samples: self % (leaf) and total % (on the stack)");
  add_top_options(top_cpu, tf, "Hide entries below this percentage");

  TopFlags hf;
  std::string heap_metric = "live", heap_at;
  bool show_allocator = false, leaks = false;
  auto* top_heap = top->add_subcommand(
      "heap", "Lines that hold heap memory (live), churn it (alloc, count) or held the most (peak)");
  top_heap->add_option("--metric,-m", heap_metric,
                       "live: bytes still allocated at the end (or --at); alloc: bytes allocated in the window; "
                       "count: allocations in the window; peak: most bytes live at any checkpoint")
      ->check(CLI::IsMember({"live", "alloc", "count", "peak"}))
      ->capture_default_str();
  top_heap->add_option("--at", heap_at, "Live bytes as of this time from the start (e.g. 10s), instead of the end");
  top_heap->add_flag("--show-allocator", show_allocator,
                     "Attribute to the allocator's immediate caller even inside the C++/Rust standard library "
                     "(default: the first frame of the program's own code)");
  top_heap->add_flag("--leaks", leaks,
                     "The blocks still allocated when a launched command exited (recorded to its end), by line");
  add_top_options(top_heap, hf, "Hide entries below this percentage of the metric's total");

  TopFlags of;
  std::int64_t offcpu_tid = 0;
  auto* top_offcpu = top->add_subcommand(
      "offcpu", "Lines where threads waited (recorded with --offcpu): self (the call that blocked) and total "
                "blocked time, with the kernel reason (futex_wait_queue, pipe_read, do_nanosleep, ...)");
  add_top_options(top_offcpu, of, "Hide entries below this percentage of the blocked time");
  top_offcpu->add_option("--tid", offcpu_tid, "Only this thread")->check(CLI::PositiveNumber);

  TopFlags wf;
  std::int64_t wall_tid = 0;
  auto* top_wall = top->add_subcommand(
      "wall", "Where each thread's wall-clock time went (recorded with --offcpu): time on the CPU plus time "
              "blocked, per line; --by thread for each thread's running and blocked time by reason");
  add_top_options(top_wall, wf, "Hide entries below this percentage of the wall time", true);
  top_wall->add_option("--tid", wall_tid, "Only this thread")->check(CLI::PositiveNumber);

  // export
  std::string efile, eformat = "flamegraph", etype = "cpu", eout, esince, euntil, ewindow, efilter;
  bool elines = false, eforce = false;
  auto* exp = app.add_subcommand("export", "Write a recording as an interactive flame graph (HTML) or in another "
                                           "tool's format: pprof (go tool pprof, Parca...), folded stacks "
                                           "(flamegraph.pl), speedscope, SVG");
  exp->add_option("file", efile, "Recording file")->required();
  std::vector<std::string> format_names;
  std::string format_help;
  for (const OutputFormat& f : output_formats()) {
    format_names.emplace_back(f.name);
    format_help += fmt::format("{}{} ({})", format_help.empty() ? "" : ", ", f.name, f.summary);
  }
  exp->add_option("--format", eformat, format_help)->check(CLI::IsMember(format_names))->capture_default_str();
  exp->add_option("--type", etype, "cpu (samples), heap-live (bytes live at the end of the window), heap-alloc "
                                   "(bytes allocated in the window), offcpu (blocked time, recorded with --offcpu), "
                                   "wall (time on and off the CPU, recorded with --offcpu); "
                                   "pprof heap profiles carry all four heap values")
      ->check(CLI::IsMember({"cpu", "heap-live", "heap-alloc", "offcpu", "wall"}))
      ->capture_default_str();
  exp->add_option("--output,-o", eout, "Output file (created 0600; default: standard output, or RECORDING.html, "
                                       ".pb.gz, .svg in the current directory when that is a terminal)")
      ->check(kFileName);
  exp->add_flag("--force,-f", eforce, "Replace the output file if it exists");
  auto* esince_opt = exp->add_option("--since", esince, "Only the last D of the recording (e.g. 10s)");
  auto* euntil_opt = exp->add_option("--until", euntil, "Only the first D of the recording");
  exp->add_option("--window", ewindow, "Only the time range A..B from the start (e.g. 5s..15s)")
      ->excludes(esince_opt)
      ->excludes(euntil_opt);
  exp->add_option("--filter", efilter, "Only stacks with a frame whose function or file contains TEXT");
  exp->add_flag("--lines", elines, "flamegraph, folded, speedscope, svg: name frames 'function file:line' (pprof "
                                  "always has lines)");

  // diff
  std::string dbase, dnew, dtype = "cpu", dby = "line", dfilter;
  std::size_t dtop = 20;
  bool djson_out = false, dcsv = false;
  auto* diff = app.add_subcommand("diff", "Lines whose share of the profile changed most between two recordings");
  diff->add_option("base", dbase, "Base recording")->required();
  diff->add_option("new", dnew, "New recording")->required();
  diff->add_option("--type", dtype, "cpu (self share, total alongside), heap-live or heap-alloc (share of bytes), "
                                    "offcpu (share of blocked time, self and total), wall (share of time on and "
                                    "off the CPU, self and total)")
      ->check(CLI::IsMember({"cpu", "heap-live", "heap-alloc", "offcpu", "wall"}))
      ->capture_default_str();
  diff->add_option("--by", dby, "Group by line, function or file")
      ->check(CLI::IsMember({"line", "function", "file"}))
      ->capture_default_str();
  diff->add_option("--top,-n", dtop, "Show this many entries (1 to 1000000000)")->capture_default_str()->check(kCount);
  diff->add_option("--filter", dfilter, "Only entries whose function or file contains TEXT (case-insensitive)");
  auto* dj = diff->add_flag("--json", djson_out, "JSON output");
  auto* dc = diff->add_flag("--csv", dcsv, "CSV output");
  dj->excludes(dc);
  std::string dformat = "table", dout;
  bool dforce = false, dlines = false;
  auto* dfmt = diff->add_option("--format", dformat,
                                "table (text, or --json/--csv), or flamegraph: a differential flame graph page (frames "
                                "as wide as in NEW, red where the share grew, blue where it shrank)")
                   ->check(CLI::IsMember({"table", "flamegraph"}))
                   ->capture_default_str();
  dfmt->excludes(dj)->excludes(dc);
  diff->add_option("--output,-o", dout, "flamegraph: output file (created 0600; default: standard output, or "
                                        "NEW-diff.html when that is a terminal)")
      ->check(kFileName);
  diff->add_flag("--force,-f", dforce, "flamegraph: replace the output file if it exists");
  diff->add_flag("--lines", dlines, "flamegraph: name frames 'function file:line'");
  diff->add_option("--since", esince, "flamegraph: only the last D of each recording");
  diff->add_option("--until", euntil, "flamegraph: only the first D of each recording");

  // view
  std::string vfile;
  auto* view = app.add_subcommand("view", "Browse a recording in the terminal UI (CPU and heap lines, trends, source, "
                                          "a time slider)");
  view->add_option("file", vfile, "Recording file")->required();

  // query
  std::string qfile, sql;
  bool qjson = false, qcsv = false;
  // events
  std::string evfile;
  std::int64_t evpid = 0;
  bool evjson = false, evcsv = false;
  auto* events = app.add_subcommand("events", "The recorded processes' lifecycle: forks, execs, and how each ended "
                                              "(exit code, killed by a signal, core dump, OOM kill)");
  events->add_option("file", evfile, "Recording file")->required();
  events->add_option("--pid", evpid, "Only this process's events")->check(CLI::PositiveNumber);
  auto* evjson_opt = events->add_flag("--json", evjson, "JSON output");
  events->add_flag("--csv", evcsv, "CSV output")->excludes(evjson_opt);

  auto* query = app.add_subcommand("query", "Run read-only SQL on a recording (tables: see docs/storage.md)");
  query->add_option("file", qfile, "Recording file")->required();
  query->add_option("sql", sql, "SQL (SELECT ...); statements that write are refused")->required();
  auto* qj = query->add_flag("--json", qjson, "JSON output (an array of objects)");
  auto* qc = query->add_flag("--csv", qcsv, "CSV output");
  qj->excludes(qc);

  // doctor
  bool djson = false;
  auto* doctor = app.add_subcommand("doctor", "Check what this host and user allow hotline to do, and how to fix it "
                                              "(exit 0 when CPU recording is possible, 4 otherwise)");
  doctor->add_flag("--json", djson, "JSON output");

  auto args = normalize_args(argc, argv);
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::invalid_args);
  }

  if (rec->parsed()) {
    int sources = (pid > 0) + !process.empty() + !ro.command.empty();
    if (sources != 1) {
      throw Error(ExitCode::invalid_args,
                  sources == 0 ? "nothing to record: give --pid N, --process NAME or -- CMD ARGS..."
                               : "give only one of --pid, --process and -- CMD",
                  "see hotline record --help");
    }
    if (pid > 0) ro.pids.push_back(pid);
    if (!process.empty()) ro.pids.push_back(pick_process(process));
    ro.interval = parse_duration(interval);
    if (ro.interval.count() < 10) {
      throw Error(ExitCode::invalid_args, "--interval must be at least 10ms", "use e.g. --interval 1s");
    }
    if (!duration.empty()) {
      ro.duration = parse_duration(duration);
      if (ro.duration->count() <= 0) throw Error(ExitCode::invalid_args, "--duration must be positive");
    }
    if (const char* dir = std::getenv("HOTLINE_OUTPUT_DIR")) ro.output_dir = dir;
    ro.heap = parse_heap_request(heap_mode);
    ro.heap_probes = parse_heap_probe_scope(heap_probes);
    parse_unwind_mode(unwind.c_str(), ro.unwind);
    ro.offcpu_min_ns = static_cast<std::uint64_t>(parse_short_duration(offcpu_min).count());
    ro.live_view = !ro.quiet && !no_view && live_view_possible();
    return run_record(ro);
  }
  if (top_cpu->parsed()) {
    auto options = to_top_options(tf);
    RecordingReader reader(tf.file);
    auto report = cpu_top(reader, options);
    std::string out = tf.json ? render_json(report) : tf.csv ? render_csv(report) : render_text(report, options.by);
    write_text_stdout(out);
    return 0;
  }
  if (top_offcpu->parsed()) {
    OffCpuTopOptions options;
    options.common = to_top_options(of);
    if (offcpu_tid > 0) options.tid = offcpu_tid;
    RecordingReader reader(of.file);
    auto report = offcpu_top(reader, options);
    write_text_stdout(of.json  ? render_offcpu_json(report)
                      : of.csv ? render_offcpu_csv(report)
                               : render_offcpu_text(report, options.common.by));
    return 0;
  }
  if (top_wall->parsed()) {
    WallTopOptions options;
    options.common = to_top_options(wf);
    options.by_thread = wf.by == "thread";
    if (wall_tid > 0) options.tid = wall_tid;
    RecordingReader reader(wf.file);
    auto report = wall_top(reader, options);
    write_text_stdout(wf.json  ? render_wall_json(report)
                      : wf.csv ? render_wall_csv(report)
                               : render_wall_text(report, options.common.by));
    return 0;
  }
  if (top_heap->parsed()) {
    HeapTopOptions options;
    options.common = to_top_options(hf);
    options.metric = parse_heap_metric(heap_metric);
    if (!heap_at.empty()) options.at = parse_duration(heap_at);
    options.show_allocator = show_allocator;
    options.leaks = leaks;
    RecordingReader reader(hf.file);
    auto report = heap_top(reader, options);
    std::string out = hf.json  ? render_heap_json(report)
                      : hf.csv ? render_heap_csv(report)
                               : render_heap_text(report, options.common.by);
    write_text_stdout(out);
    return 0;
  }
  if (events->parsed()) {
    EventsOptions options;
    if (evpid > 0) options.pid = evpid;
    RecordingReader reader(evfile);
    const EventsReport report = events_report(reader, options);
    write_text_stdout(evjson  ? render_events_json(report)
                      : evcsv ? render_events_csv(report)
                              : render_events_text(report));
    return 0;
  }
  if (doctor->parsed()) {
    const HostFacts facts = gather_host_facts();
    const auto checks = evaluate(facts);
    std::string out = djson ? render_doctor_json(facts, checks) : render_doctor_text(facts, checks, color_enabled(1));
    write_stdout(out);
    return can_record_cpu(facts) ? 0 : static_cast<int>(ExitCode::permission);
  }
  if (exp->parsed()) {
    ExportOptions options;
    options.format = parse_export_format(eformat);
    options.type = parse_export_type(etype);
    if (!esince.empty()) options.window.since = parse_duration(esince);
    if (!euntil.empty()) options.window.until = parse_duration(euntil);
    if (!ewindow.empty()) options.window.range = parse_window(ewindow);
    options.filter = efilter;
    options.lines = elines;
    RecordingReader reader(efile);
    const std::string bytes = export_recording(reader, options);
    const std::string ext = output_format(options.format).extension;
    write_export(bytes, eout, eforce, ext.empty() ? "" : recording_stem(efile) + ext);
    return 0;
  }
  if (diff->parsed()) {
    DiffOptions options;
    options.type = parse_export_type(dtype);
    options.by = dby == "function" ? GroupBy::function : dby == "file" ? GroupBy::file : GroupBy::line;
    options.top = dtop;
    options.filter = dfilter;
    RecordingReader base(dbase), next(dnew);
    if (dformat == "flamegraph") {
      ExportOptions eo;
      eo.type = options.type;
      eo.filter = dfilter;
      eo.lines = dlines;
      if (!esince.empty()) eo.window.since = parse_duration(esince);
      if (!euntil.empty()) eo.window.until = parse_duration(euntil);
      write_export(export_diff_flamegraph(base, next, eo), dout, dforce, recording_stem(dnew) + "-diff.html");
      return 0;
    }
    if (!dout.empty() || dlines || !esince.empty() || !euntil.empty()) {
      throw Error(ExitCode::invalid_args, "-o, --lines, --since and --until apply to the flame graph diff",
                  "add --format flamegraph, or leave them out for the table");
    }
    const DiffReport report = diff_recordings(base, next, options);
    write_text_stdout(djson_out ? render_diff_json(report) : dcsv ? render_diff_csv(report) : render_diff_text(report, options.by));
    return 0;
  }
  if (view->parsed()) {
    run_view(vfile);
    return 0;
  }
  if (query->parsed()) {
    RecordingReader reader(qfile);
    auto result = run_readonly_query(reader.db(), sql);
    std::string out = qjson ? render_query_json(result) : qcsv ? render_query_csv(result) : render_query_text(result);
    write_text_stdout(out);
    return 0;
  }
  return 0;
}

}  // namespace
}  // namespace hotline

int main(int argc, char** argv) {
  try {
    return hotline::run(argc, argv);
  } catch (const hotline::Error& e) {
    hotline::error_message(e.what(), e.remedy());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    hotline::error_message(e.what(), "");
    return 1;
  }
}
