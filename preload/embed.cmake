# Writes INPUT's bytes as a C array (hotline_preload_library, hotline_preload_library_size).
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" len)
math(EXPR size "${len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUTPUT} "/* Generated from libhotline_heap.so by preload/embed.cmake. */\n"
  "const unsigned char hotline_preload_library[] __attribute__((aligned(16))) = {\n${bytes}\n};\n"
  "const unsigned long hotline_preload_library_size = ${size};\n")
