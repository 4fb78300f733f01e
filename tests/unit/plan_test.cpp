// The recording plan: CPU backend and heap mode from what was asked and what the host
// allows, without root (HostFacts are plain data).
#include <gtest/gtest.h>

#include "record/plan.h"
#include "util/error.h"

namespace hotline {
namespace {

std::uint64_t caps(std::initializer_list<Capability> list) {
  std::uint64_t out = 0;
  for (Capability c : list) out |= std::uint64_t{1} << static_cast<int>(c);
  return out;
}

HostFacts root_host() {
  HostFacts f;
  f.root = true;
  f.effective_caps = caps({Capability::sys_ptrace, Capability::sys_admin, Capability::perfmon, Capability::bpf});
  f.perf_event_paranoid = 2;
  f.btf = true;
  f.perf_software_events = true;
  f.uprobes = true;
  f.uprobe_multi = true;
  f.perf_uprobes_allowed = true;
  return f;
}

// A plain user with nothing granted: perf_event on its own processes only.
HostFacts plain_user() {
  HostFacts f = root_host();
  f.root = false;
  f.effective_caps = 0;
  f.perf_uprobes_allowed = false;
  return f;
}

PlanRequest request(HeapRequest heap, bool launch) {
  PlanRequest r;
  r.heap = heap;
  r.launch = launch;
  r.executable = "/usr/bin/prog";
  return r;
}

ExitCode refusal(const HostFacts& facts, const PlanRequest& r) {
  try {
    plan_recording(facts, r);
  } catch (const Error& e) {
    EXPECT_FALSE(e.remedy().empty()) << e.what();
    return e.code();
  }
  ADD_FAILURE() << "the plan was not refused";
  return ExitCode::ok;
}

TEST(Plan, AutomaticHeapIsSampledForCommandsAndExactForRunningProcesses) {
  const RecordingPlan launched = plan_recording(root_host(), request(HeapRequest::automatic, true));
  EXPECT_EQ(launched.cpu.backend, CpuBackend::bpf);
  EXPECT_EQ(launched.heap, HeapMode::sampled);
  EXPECT_TRUE(launched.warnings.empty());
  EXPECT_TRUE(launched.cpu.fallback_note.empty());

  const RecordingPlan attached = plan_recording(root_host(), request(HeapRequest::automatic, false));
  EXPECT_EQ(attached.heap, HeapMode::exact);
  EXPECT_EQ(attached.heap_probes, HeapProbeScope::per_process);
}

TEST(Plan, ACommandWithItsOwnAllocatorGetsExactModeAndIsToldWhy) {
  PlanRequest r = request(HeapRequest::automatic, true);
  r.links_own_allocator = [] { return true; };
  const RecordingPlan plan = plan_recording(root_host(), r);
  EXPECT_EQ(plan.heap, HeapMode::exact);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("/usr/bin/prog has its own allocator"), std::string::npos) << plan.notes[0];

  // Asked for sampled, it stays sampled (the user chose); the file is not even looked at.
  r.heap = HeapRequest::sampled;
  r.links_own_allocator = [] {
    ADD_FAILURE() << "the executable was read although the user chose the mode";
    return true;
  };
  EXPECT_EQ(plan_recording(root_host(), r).heap, HeapMode::sampled);
  r.heap = HeapRequest::off;
  EXPECT_EQ(plan_recording(root_host(), r).heap, HeapMode::off);
}

TEST(Plan, SampledModeWithoutACommandIsAnArgumentError) {
  EXPECT_EQ(refusal(root_host(), request(HeapRequest::sampled, false)), ExitCode::invalid_args);
}

TEST(Plan, WithoutUprobesTheHeapFallsBackUnlessExactWasAskedFor) {
  HostFacts f = root_host();
  f.uprobes = false;
  const RecordingPlan plan = plan_recording(f, request(HeapRequest::automatic, false));
  EXPECT_EQ(plan.heap, HeapMode::off);
  EXPECT_EQ(plan.cpu.backend, CpuBackend::bpf);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("no uprobes"), std::string::npos) << plan.warnings[0];
  EXPECT_NE(plan.warnings[0].find("recording CPU only"), std::string::npos) << plan.warnings[0];

  EXPECT_EQ(refusal(f, request(HeapRequest::exact, false)), ExitCode::permission);
}

TEST(Plan, LeastPrivilegeWithoutUprobeMultiRecordsCpuOnly) {
  HostFacts f = plain_user();
  f.effective_caps = caps({Capability::bpf, Capability::perfmon});
  f.uprobe_multi = false;
  const RecordingPlan plan = plan_recording(f, request(HeapRequest::automatic, false));
  EXPECT_EQ(plan.cpu.backend, CpuBackend::bpf);
  EXPECT_EQ(plan.heap, HeapMode::off);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("CAP_SYS_ADMIN"), std::string::npos) << plan.warnings[0];

  // With uprobe_multi links, CAP_BPF and CAP_PERFMON are enough.
  f.uprobe_multi = true;
  EXPECT_EQ(plan_recording(f, request(HeapRequest::automatic, false)).heap, HeapMode::exact);
}

TEST(Plan, ThePerfFallbackHasNoExactHeapButKeepsSampledMode) {
  const HostFacts f = plain_user();
  const RecordingPlan attached = plan_recording(f, request(HeapRequest::automatic, false));
  EXPECT_EQ(attached.cpu.backend, CpuBackend::perf);
  EXPECT_FALSE(attached.cpu.fallback_note.empty());
  EXPECT_FALSE(attached.cpu.kernel_frames);  // paranoid 2 without CAP_PERFMON: user mode only
  EXPECT_EQ(attached.heap, HeapMode::off);
  ASSERT_EQ(attached.warnings.size(), 1u);
  EXPECT_NE(attached.warnings[0].find("BPF sampler"), std::string::npos) << attached.warnings[0];

  const RecordingPlan launched = plan_recording(f, request(HeapRequest::automatic, true));
  EXPECT_EQ(launched.cpu.backend, CpuBackend::perf);
  EXPECT_EQ(launched.heap, HeapMode::sampled);  // needs no privilege at all
  EXPECT_TRUE(launched.warnings.empty());
}

TEST(Plan, TheBackendAskedForIsTakenOrRefused) {
  PlanRequest r = request(HeapRequest::off, true);
  r.cpu_backend = "perf";
  EXPECT_EQ(plan_recording(root_host(), r).cpu.backend, CpuBackend::perf);
  EXPECT_TRUE(plan_recording(root_host(), r).cpu.kernel_frames);
  r.cpu_backend = "bpf";
  EXPECT_EQ(plan_recording(root_host(), r).cpu.backend, CpuBackend::bpf);
  EXPECT_EQ(refusal(plain_user(), r), ExitCode::permission);

  HostFacts no_btf = root_host();
  no_btf.btf = false;
  r.cpu_backend = "auto";
  EXPECT_EQ(refusal(no_btf, r), ExitCode::permission);  // never papered over by the fallback
}

TEST(Plan, SharedProbesNeedCapSysPtrace) {
  PlanRequest r = request(HeapRequest::automatic, false);
  r.heap_probes = HeapProbeScope::shared;
  EXPECT_EQ(plan_recording(root_host(), r).heap_probes, HeapProbeScope::shared);
  r.restricted = true;
  HostFacts f = plain_user();
  f.effective_caps = caps({Capability::bpf, Capability::perfmon});
  EXPECT_EQ(refusal(f, r), ExitCode::permission);
  // Without an exact heap there are no probes to share: nothing to refuse.
  r.heap = HeapRequest::off;
  EXPECT_EQ(plan_recording(f, r).heap, HeapMode::off);
}

TEST(Plan, SpellingsRoundTrip) {
  EXPECT_EQ(parse_heap_request("auto"), HeapRequest::automatic);
  EXPECT_EQ(parse_heap_request("sampled"), HeapRequest::sampled);
  EXPECT_THROW(parse_heap_request("Exact"), Error);
  EXPECT_EQ(parse_heap_probe_scope("shared"), HeapProbeScope::shared);
  EXPECT_THROW(parse_heap_probe_scope(""), Error);
  EXPECT_STREQ(to_string(HeapMode::detached), "detached");
  EXPECT_STREQ(to_string(HeapProbeScope::per_process), "per-process");
  EXPECT_STREQ(to_string(CpuBackend::perf), "perf");
}

}  // namespace
}  // namespace hotline
