# Writes the text file INPUT as a C++ raw string constant NAME (in namespace hotline) to
# OUTPUT: the flame graph page is kept as a readable .html in src/ and compiled in.
file(READ ${INPUT} text)
string(FIND "${text}" ")HOTLINE_EMBED\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE ${OUTPUT} "// Generated from ${NAME}'s source by cmake/embed_text.cmake.\n"
  "namespace hotline {\nextern const char ${NAME}[];\nconst char ${NAME}[] = R\"HOTLINE_EMBED(${text})HOTLINE_EMBED\";\n}\n")
