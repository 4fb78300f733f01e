// Out-of-line wrappers around the generated skeletons' open/load/destroy. The skeleton
// code is bpftool's: keeping its inline functions out of hotline's translation units keeps
// static analysis (make lint) on hotline's own code.
#pragma once

struct proc_bpf;
struct cpu_bpf;
struct heap_bpf;
struct offcpu_bpf;

namespace hotline::skeleton {

proc_bpf* open_proc();
int load_proc(proc_bpf* skel);
void destroy_proc(proc_bpf* skel);
cpu_bpf* open_cpu();
int load_cpu(cpu_bpf* skel);
void destroy_cpu(cpu_bpf* skel);
heap_bpf* open_heap();
int load_heap(heap_bpf* skel);
void destroy_heap(heap_bpf* skel);
offcpu_bpf* open_offcpu();
int load_offcpu(offcpu_bpf* skel);
void destroy_offcpu(offcpu_bpf* skel);

}  // namespace hotline::skeleton
