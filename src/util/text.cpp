#include "util/text.h"

#include <cstdint>

#include <fmt/format.h>

namespace hotline {
namespace {

// Length of the valid UTF-8 sequence at s[i] and its code point, or 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool is_control(std::uint32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

// Code points XML 1.0 forbids even as characters: U+FFFE and U+FFFF.
bool xml_forbidden(std::uint32_t cp) { return cp == 0xFFFE || cp == 0xFFFF; }

// Calls keep(i, len) for runs to copy and escape(text) for what replaces a character.
template <typename Keep, typename Escape>
void scan(std::string_view s, bool keep_whitespace, Keep keep, Escape escape, bool for_xml = false) {
  for (std::size_t i = 0; i < s.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_sequence(s, i, cp);
    if (len == 0) {
      escape(fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i])));
      ++i;
      continue;
    }
    if ((is_control(cp) && !(keep_whitespace && (cp == '\t' || cp == '\n' || cp == '\r'))) ||
        (for_xml && xml_forbidden(cp))) {
      escape(cp < 0x80 ? fmt::format("\\x{:02x}", cp) : fmt::format("\\u{:04x}", cp));
    } else {
      keep(i, len);
    }
    i += len;
  }
}

}  // namespace

std::string printable(std::string_view text) {
  if (is_printable(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  scan(
      text, false, [&](std::size_t i, std::size_t len) { out.append(text.substr(i, len)); },
      [&](const std::string& e) { out += e; });
  return out;
}

std::string printable_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  scan(
      text, true,
      [&](std::size_t i, std::size_t len) {
        if (len == 1 && text[i] == '\r') out += "\\x0d";
        else out.append(text.substr(i, len));
      },
      [&](const std::string& e) { out += e; });
  return out;
}

bool is_printable(std::string_view text) {
  bool ok = true;
  scan(
      text, false, [](std::size_t, std::size_t) {}, [&](const std::string&) { ok = false; });
  return ok;
}

std::string xml_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  scan(
      text, true,
      [&](std::size_t i, std::size_t len) {
        const char c = text[i];
        switch (len == 1 ? c : '\0') {
          case '&': out += "&amp;"; break;
          case '<': out += "&lt;"; break;
          case '>': out += "&gt;"; break;
          case '"': out += "&quot;"; break;
          case '\'': out += "&apos;"; break;
          default: out.append(text.substr(i, len));
        }
      },
      [&](const std::string& e) { out += e; }, true);
  return out;
}

std::string json_terminal_safe(std::string json) {
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    const auto c = static_cast<unsigned char>(json[i]);
    if (c == 0x7F) {
      out += "\\u007f";
    } else if (c == 0xC2 && i + 1 < json.size() && static_cast<unsigned char>(json[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(json[i + 1]) <= 0x9F) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(json[i + 1]));
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace hotline
