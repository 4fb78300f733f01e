#pragma once
// Names that reach a terminal come from the profiled program: thread names, DWARF file and
// function names, mapping paths, JIT symbol maps. Any of them may hold escape sequences
// (ESC]0;title BEL, ESC[2J, an 8-bit CSI) that a terminal would obey. Every text output
// passes them through here.
#include <string>
#include <string_view>

namespace hotline {

// Control characters (C0, DEL, and C1 code points U+0080..U+009F) become visible escapes
// ("\x1b", "\u009b"); bytes that are not valid UTF-8 become "\xNN". Everything else,
// including other non-ASCII text, is kept as it is.
std::string printable(std::string_view text);
bool is_printable(std::string_view text);
// The same, for a whole text output: newlines and tabs are kept (the lines of a table); the
// values inside it went through printable() already, so no name can start a line of its own.
std::string printable_lines(std::string_view text);

// Character data and attribute values for XML 1.0 (the SVG export): the five special
// characters as entities; characters XML 1.0 does not allow at all (C0 but tab, newline,
// carriage return; invalid UTF-8) and C1 controls as the visible escapes of printable().
std::string xml_text(std::string_view text);

// A JSON text (as nlohmann::json::dump writes it, with control characters below U+0020
// already escaped) with DEL and C1 code points escaped as \u007f, \u0080... too: the same
// JSON value, but nothing in it a terminal obeys.
std::string json_terminal_safe(std::string json);

}  // namespace hotline
