// Header text helpers the native server's parser, response writer and WebSocket handshake share:
// ASCII case-insensitive comparison and the search for one element of a comma-separated list.
#pragma once

#include <string_view>

namespace node_asgi::server {

inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

// Whether a comma-separated header value (Connection, Upgrade...) has the element `token`,
// case-insensitively, with the whitespace around elements ignored.
inline bool HasToken(std::string_view value, std::string_view token) {
  size_t i = 0;
  while (i <= value.size()) {
    size_t comma = value.find(',', i);
    if (comma == std::string_view::npos) comma = value.size();
    size_t start = i, end = comma;
    while (start < end && (value[start] == ' ' || value[start] == '\t')) ++start;
    while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t')) --end;
    if (EqualsNoCase(value.substr(start, end - start), token)) return true;
    i = comma + 1;
  }
  return false;
}

}  // namespace node_asgi::server
