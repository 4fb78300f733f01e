# hotline_bpf_skeleton(NAME): compiles bpf/NAME.bpf.c with clang -target bpf against the
# committed CO-RE type header (never the build machine's kernel), strips DWARF (BTF stays),
# and generates NAME.skel.h with bpftool. The skeleton embeds the object in the binary.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                OUTPUT_VARIABLE HOTLINE_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
set(HOTLINE_BPF_OUT ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${HOTLINE_BPF_OUT})

function(hotline_bpf_skeleton name)
  set(src ${CMAKE_SOURCE_DIR}/bpf/${name}.bpf.c)
  set(obj ${HOTLINE_BPF_OUT}/${name}.bpf.o)
  set(skel ${HOTLINE_BPF_OUT}/${name}.skel.h)
  file(GLOB headers ${CMAKE_SOURCE_DIR}/bpf/*.h)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror
            -fdebug-prefix-map=${CMAKE_SOURCE_DIR}=.
            -I${CMAKE_SOURCE_DIR}/bpf -I/usr/include/${HOTLINE_MULTIARCH}
            -c ${src} -o ${obj}.tmp
    COMMAND ${LLVM_STRIP} -g ${obj}.tmp -o ${obj}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${src} ${headers}
    COMMENT "BPF ${name}.bpf.c -> ${name}.skel.h"
    VERBATIM)
  add_custom_target(bpf_${name} DEPENDS ${skel})
endfunction()
