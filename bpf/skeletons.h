// Out-of-line wrappers around the generated skeletons' open/load/destroy. The skeleton
// code is bpftool's: keeping its inline functions out of hotline's translation units keeps
// static analysis (make lint) on hotline's own code.
#pragma once

struct cpu_bpf;

namespace hotline::skeleton {

cpu_bpf* open_cpu();
int load_cpu(cpu_bpf* skel);
void destroy_cpu(cpu_bpf* skel);

}  // namespace hotline::skeleton
