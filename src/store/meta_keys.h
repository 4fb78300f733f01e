#pragma once
// The keys of a recording's meta table (docs/storage.md says what each holds), shared by
// the code that writes them (the session, the collectors) and the code that reads them
// (reports, the live view): a key renamed on one side fails to compile on the other.
namespace hotline::meta_key {

inline constexpr const char* command = "command";
inline constexpr const char* command_output = "command_output";
inline constexpr const char* command_status = "command_status";
inline constexpr const char* cpu_backend = "cpu_backend";
inline constexpr const char* cpu_frequency_hz = "cpu_frequency_hz";
inline constexpr const char* denied_samples = "denied_samples";
inline constexpr const char* dropped_samples = "dropped_samples";
inline constexpr const char* duration_ms = "duration_ms";
inline constexpr const char* end_time = "end_time";
inline constexpr const char* exe = "exe";
inline constexpr const char* format = "format";
inline constexpr const char* heap_allocations = "heap_allocations";
inline constexpr const char* heap_at_exit = "heap_at_exit";
inline constexpr const char* heap_bystander_calls = "heap_bystander_calls";
inline constexpr const char* heap_decision = "heap_decision";
inline constexpr const char* heap_denied_calls = "heap_denied_calls";
inline constexpr const char* heap_dropped = "heap_dropped";
inline constexpr const char* heap_frees = "heap_frees";
inline constexpr const char* heap_lost_stacks = "heap_lost_stacks";
inline constexpr const char* heap_map_halvings = "heap_map_halvings";
inline constexpr const char* heap_mode = "heap_mode";
inline constexpr const char* heap_probe_cost_ns = "heap_probe_cost_ns";
inline constexpr const char* heap_probe_links = "heap_probe_links";
inline constexpr const char* heap_probe_scope = "heap_probe_scope";
inline constexpr const char* heap_probes = "heap_probes";
inline constexpr const char* heap_processes = "heap_processes";
inline constexpr const char* heap_sample_bytes = "heap_sample_bytes";
inline constexpr const char* heap_self_calls = "heap_self_calls";
inline constexpr const char* heap_unprobed_files = "heap_unprobed_files";
inline constexpr const char* heap_untracked_frees = "heap_untracked_frees";
inline constexpr const char* hotline_version = "hotline_version";
inline constexpr const char* interval_ms = "interval_ms";
inline constexpr const char* lost_events = "lost_events";
inline constexpr const char* lost_kernel_stacks = "lost_kernel_stacks";
inline constexpr const char* lost_user_stacks = "lost_user_stacks";
inline constexpr const char* map_budget_bytes = "map_budget_bytes";
inline constexpr const char* map_bytes = "map_bytes";
inline constexpr const char* map_halvings = "map_halvings";
inline constexpr const char* mode = "mode";
// Off-CPU (record --offcpu): the minimum counted, blocks counted and not, stacks lost.
inline constexpr const char* offcpu = "offcpu";
inline constexpr const char* offcpu_min_ns = "offcpu_min_ns";
inline constexpr const char* offcpu_blocks = "offcpu_blocks";
inline constexpr const char* offcpu_short_blocks = "offcpu_short_blocks";
inline constexpr const char* offcpu_dropped_blocks = "offcpu_dropped_blocks";
inline constexpr const char* offcpu_lost_stacks = "offcpu_lost_stacks";
inline constexpr const char* offcpu_truncated_stacks = "offcpu_truncated_stacks";
inline constexpr const char* offcpu_map_halvings = "offcpu_map_halvings";
inline constexpr const char* pids = "pids";
inline constexpr const char* process_name = "process_name";
inline constexpr const char* samples = "samples";
inline constexpr const char* schema_version = "schema_version";
inline constexpr const char* start_time = "start_time";
inline constexpr const char* truncated_stacks = "truncated_stacks";
inline constexpr const char* unwind_mode = "unwind_mode";
// CPU samples per reason their user stack ends (unwind/stack_reader.h: to_string(UnwindStop)).
inline constexpr const char* unwind_stop_prefix = "unwind_stop_";
inline constexpr const char* unwind_tables = "unwind_tables";
inline constexpr const char* unwind_tables_failed = "unwind_tables_failed";
inline constexpr const char* unwind_table_rows = "unwind_table_rows";
inline constexpr const char* unwind_table_bytes = "unwind_table_bytes";
inline constexpr const char* unwind_table_build_ms = "unwind_table_build_ms";
inline constexpr const char* unwind_tables_over_budget = "unwind_tables_over_budget";
inline constexpr const char* unwind_mapping_reads = "unwind_mapping_reads";

}  // namespace hotline::meta_key
