// Parsers of user input and of untrusted text: durations, names, /proc maps, perf maps,
// kallsyms.
#include <chrono>

#include <gtest/gtest.h>

#include "record/recorder.h"
#include "report/offcpu_top.h"
#include "report/top.h"
#include "symbolize/kernel_symbols.h"
#include "symbolize/perf_map.h"
#include "target/proc.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/files.h"

namespace hotline {
namespace {

using std::chrono::milliseconds;

TEST(Duration, AcceptedForms) {
  EXPECT_EQ(parse_duration("30s"), milliseconds(30000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300000));
  EXPECT_EQ(parse_duration("2h"), milliseconds(7200000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5400000));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("1m30s500ms"), milliseconds(90500));
  EXPECT_EQ(parse_duration("10"), milliseconds(10000));
  EXPECT_EQ(parse_duration("1.5"), milliseconds(1500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(Duration, RejectedFormsAreInvalidArguments) {
  for (const char* bad : {"", "s", "5", "5x", "5min", "5 m", "-5s", "1s1h", "1m1m", "5ms5s", "1..2", ".5", "5.",
                          "1.2.3", "99999999999999999999h", "10sec", "h1", "1h30", "ms"}) {
    if (std::string(bad) == "5") continue;  // bare numbers are seconds
    try {
      parse_duration(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::invalid_args) << bad;
      EXPECT_NE(e.remedy().find("1h30m"), std::string::npos);
    }
  }
}

TEST(Window, ParsesRanges) {
  auto w = parse_window("5s..15s");
  EXPECT_EQ(w.first, milliseconds(5000));
  EXPECT_EQ(w.second, milliseconds(15000));
  EXPECT_EQ(parse_window("..10s").first, milliseconds(0));
  EXPECT_EQ(parse_window("1m..").second, milliseconds::max());
  EXPECT_THROW(parse_window("10s"), Error);
  EXPECT_THROW(parse_window("10s..5s"), Error);
  EXPECT_THROW(parse_window("a..b"), Error);
}

TEST(Names, SanitisedForFileNames) {
  EXPECT_EQ(sanitize_name("demo"), "demo");
  EXPECT_EQ(sanitize_name("my server/1"), "my_server_1");
  EXPECT_EQ(sanitize_name("../../etc/passwd"), "______etc_passwd");
  EXPECT_EQ(sanitize_name("a.b-c_d"), "a_b-c_d");
  EXPECT_EQ(sanitize_name(std::string(100, 'x')).size(), 32u);
  EXPECT_EQ(sanitize_name(""), "process");
  EXPECT_EQ(sanitize_name("///"), "process");
  EXPECT_EQ(sanitize_name("caf\xc3\xa9"), "caf__");
}

TEST(Names, DefaultOutputName) {
  std::tm tm{};
  tm.tm_year = 125;
  tm.tm_mon = 10;
  tm.tm_mday = 23;
  tm.tm_hour = 14;
  tm.tm_min = 5;
  tm.tm_sec = 9;
  tm.tm_isdst = -1;
  auto when = std::chrono::system_clock::from_time_t(std::mktime(&tm));
  EXPECT_EQ(default_output_name("my app", when), "hotline.my_app.251123140509.db");
}

TEST(ProcMaps, ParsesLinesAndSkipsGarbage) {
  auto maps = parse_maps(
      "55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234   /usr/bin/app\n"
      "55d0c0a01000-55d0c0a05000 r-xp 00001000 08:01 1234   /usr/bin/app\n"
      "7f0000000000-7f0000001000 r-xp 00000000 00:00 0 \n"
      "7f0000002000-7f0000003000 r-xp 00002000 fd:00 99 /tmp/lib with space.so (deleted)\n"
      "7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]\n"
      "garbage line\n"
      "zzzz-0000 r-xp 0 0:0 0\n"
      "1000-0500 r-xp 00000000 00:00 0 [bad range]\n");
  ASSERT_EQ(maps.size(), 5u);
  EXPECT_EQ(maps[1].start, 0x55d0c0a01000u);
  EXPECT_EQ(maps[1].offset, 0x1000u);
  EXPECT_TRUE(maps[1].executable);
  EXPECT_FALSE(maps[0].executable);
  EXPECT_EQ(maps[1].path, "/usr/bin/app");
  EXPECT_EQ(maps[1].inode, 1234u);
  EXPECT_EQ(maps[1].dev_major, 8u);
  EXPECT_EQ(maps[2].path, "");
  EXPECT_EQ(maps[3].path, "/tmp/lib with space.so");
  EXPECT_TRUE(maps[3].deleted);
  EXPECT_EQ(maps[3].dev_major, 0xfdu);
  EXPECT_EQ(maps[4].path, "[vdso]");
  EXPECT_TRUE(maps[1].is_file());
  EXPECT_FALSE(maps[4].is_file());
}

TEST(ProcMaps, OwnProcessIsReadable) {
  auto maps = read_maps(::getpid());
  ASSERT_TRUE(maps.has_value());
  bool exe = false;
  for (const auto& m : *maps) exe |= m.executable && m.path.find("unit_tests") != std::string::npos;
  EXPECT_TRUE(exe);
  EXPECT_TRUE(process_alive(::getpid()));
  EXPECT_FALSE(process_alive(4194303));
}

TEST(PerfMap, LookupAndMalformedLines) {
  auto map = PerfMap::parse(
      "1000 100 js:hot_function\n"
      "0x2000 0x10 LazyCompile:~foo bar.js:1\n"
      "not a line\n"
      "3000 zz bad\n"
      "4000 0 empty\n"
      "ffffffffffffffff 10 wraps\n");
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.lookup(0x1000).value_or(""), "js:hot_function");
  EXPECT_EQ(map.lookup(0x10ff).value_or(""), "js:hot_function");
  EXPECT_FALSE(map.lookup(0x1100).has_value());
  EXPECT_EQ(map.lookup(0x2008).value_or(""), "LazyCompile:~foo bar.js:1");
  EXPECT_FALSE(map.lookup(0x4000).has_value());
  EXPECT_FALSE(map.lookup(0x10).has_value());
}

TEST(KernelSymbols, LookupModulesAndHiddenAddresses) {
  auto syms = KernelSymbols::parse(
      "ffffffff81000000 T _stext\n"
      "ffffffff81000100 t do_one\n"
      "ffffffff81000200 D some_data\n"
      "ffffffffc0001000 t ext4_thing\t[ext4]\n");
  EXPECT_FALSE(syms.addresses_hidden());
  ASSERT_NE(syms.lookup(0xffffffff81000150), nullptr);
  EXPECT_EQ(syms.lookup(0xffffffff81000150)->name, "do_one");
  EXPECT_EQ(syms.lookup(0xffffffffc0001010)->module, "ext4");
  EXPECT_EQ(syms.lookup(0x1000), nullptr);
  auto hidden = KernelSymbols::parse("0000000000000000 T _stext\n0000000000000000 t do_one\n");
  EXPECT_TRUE(hidden.addresses_hidden());
  EXPECT_EQ(hidden.lookup(0xffffffff81000150), nullptr);
}

}  // namespace
}  // namespace hotline

#include "preflight/sensitive.h"

namespace hotline {
namespace {

TEST(Sensitive, ListedProcessesOnly) {
  EXPECT_TRUE(sensitive_process("sshd").has_value());
  EXPECT_TRUE(sensitive_process("gpg-agent").has_value());
  EXPECT_TRUE(sensitive_process("ssh-agent").has_value());
  EXPECT_FALSE(sensitive_process("sshd-wrapper").has_value());  // whole names only
  EXPECT_FALSE(sensitive_process("demo").has_value());
  EXPECT_FALSE(sensitive_process("").has_value());
}

}  // namespace
}  // namespace hotline

namespace hotline {
namespace {

TEST(ShortDuration, UnitsDownToNanoseconds) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(parse_short_duration("500ns"), nanoseconds(500));
  EXPECT_EQ(parse_short_duration("1us"), nanoseconds(1000));
  EXPECT_EQ(parse_short_duration("1\xc2\xb5s"), nanoseconds(1000));
  EXPECT_EQ(parse_short_duration("2ms"), nanoseconds(2000000));
  EXPECT_EQ(parse_short_duration("10s"), nanoseconds(10000000000));
  EXPECT_EQ(parse_short_duration("0us"), nanoseconds(0));
  for (const char* bad : {"", "us", "1", "1.5us", "-1us", "1 us", "11s", "99999999999ns", "1usx", "1m"}) {
    try {
      parse_short_duration(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::invalid_args) << bad;
    }
  }
}

TEST(OffCpuReason, TheInnermostKernelFunctionThatIsNotSchedulerPlumbing) {
  const std::string sched = "__schedule", schedule = "schedule", timeout = "schedule_timeout",
                    read = "anon_pipe_read", vfs = "vfs_read", bpf = "bpf_prog_1234_on_sched_switch",
                    run = "bpf_trace_run4", io = "io_schedule", folio = "folio_wait_bit_common";
  EXPECT_EQ(offcpu_reason({&bpf, &run, &sched, &schedule, &timeout, &read, &vfs}), "anon_pipe_read");
  // io_schedule is a reason (waiting for I/O), not plumbing.
  EXPECT_EQ(offcpu_reason({&sched, &schedule, &io, &folio}), "io_schedule");
  EXPECT_EQ(offcpu_reason({&sched, &schedule}), "");
  EXPECT_EQ(offcpu_reason({}), "");
  EXPECT_TRUE(kernel_module_path("[kernel]"));
  EXPECT_TRUE(kernel_module_path("[bpf]"));
  EXPECT_TRUE(kernel_module_path("[ext4]"));
  for (const char* user : {"[vdso]", "[jit]", "[unknown]", "[heap]", "[stack]", "/usr/lib/libc.so.6", "[anon:x]"}) {
    EXPECT_FALSE(kernel_module_path(user)) << user;
  }
}

}  // namespace
}  // namespace hotline
