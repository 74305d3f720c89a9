// permessage-deflate (RFC 7692): the Sec-WebSocket-Extensions parser and negotiation, and the zlib streams.
#include "ws_deflate.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

namespace node_asgi::server {

namespace {

// zlib counts in uInt; larger buffers are handed over in pieces of this size.
constexpr size_t kMaxZlibChunk = size_t{1} << 30;

bool IsTokenChar(unsigned char c) {
  // RFC 7230 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" /
  // DIGIT / ALPHA.
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

struct ExtensionParam {
  std::string name;
  std::string value;
  bool has_value = false;
};

struct ExtensionOffer {
  std::string name;
  std::vector<ExtensionParam> params;
};

std::string RemoveBackslashes(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != '\\') out += c;
  }
  return out;
}

// A port of ws's lib/extension.js parse(): the same grammar and the same syntax errors (returns false),
// applied to the value with its surrounding whitespace removed (as an HTTP parser hands it over).
bool ParseExtensions(const std::string& raw, std::vector<ExtensionOffer>* offers) {
  size_t first = 0, last = raw.size();
  while (first < last && IsOws(raw[first])) first++;
  while (last > first && IsOws(raw[last - 1])) last--;
  const std::string h = raw.substr(first, last - first);

  std::vector<ExtensionParam> params;
  bool have_extension = false;
  std::string extension;
  bool have_param = false;
  std::string param;
  bool must_unescape = false, escaping = false, in_quotes = false;
  long start = -1, end = -1;
  int code = -1;
  size_t i = 0;
  auto slice = [&](long from, long to) { return h.substr(static_cast<size_t>(from), static_cast<size_t>(to - from)); };
  auto push_offer = [&](std::string name) {
    offers->push_back(ExtensionOffer{std::move(name), std::move(params)});
    params.clear();
  };

  for (; i < h.size(); i++) {
    code = static_cast<unsigned char>(h[i]);
    const long at = static_cast<long>(i);
    if (!have_extension) {
      if (end == -1 && IsTokenChar(code)) {
        if (start == -1) start = at;
      } else if (i != 0 && (code == ' ' || code == '\t')) {
        if (end == -1 && start != -1) end = at;
      } else if (code == ';' || code == ',') {
        if (start == -1) return false;
        if (end == -1) end = at;
        std::string name = slice(start, end);
        if (code == ',') {
          push_offer(std::move(name));
        } else {
          extension = std::move(name);
          have_extension = true;
        }
        start = end = -1;
      } else {
        return false;
      }
    } else if (!have_param) {
      if (end == -1 && IsTokenChar(code)) {
        if (start == -1) start = at;
      } else if (code == ' ' || code == '\t') {
        if (end == -1 && start != -1) end = at;
      } else if (code == ';' || code == ',') {
        if (start == -1) return false;
        if (end == -1) end = at;
        params.push_back(ExtensionParam{slice(start, end), std::string(), false});
        if (code == ',') {
          push_offer(std::move(extension));
          have_extension = false;
        }
        start = end = -1;
      } else if (code == '=' && start != -1 && end == -1) {
        param = slice(start, at);
        have_param = true;
        start = end = -1;
      } else {
        return false;
      }
    } else {
      // A quoted value must still be a token once unescaped (RFC 6455 §9.1).
      if (escaping) {
        if (!IsTokenChar(code)) return false;
        if (start == -1) {
          start = at;
        } else {
          must_unescape = true;
        }
        escaping = false;
      } else if (in_quotes) {
        if (IsTokenChar(code)) {
          if (start == -1) start = at;
        } else if (code == '"' && start != -1) {
          in_quotes = false;
          end = at;
        } else if (code == '\\') {
          escaping = true;
        } else {
          return false;
        }
      } else if (code == '"' && h[i - 1] == '=') {
        in_quotes = true;
      } else if (end == -1 && IsTokenChar(code)) {
        if (start == -1) start = at;
      } else if (start != -1 && (code == ' ' || code == '\t')) {
        if (end == -1) end = at;
      } else if (code == ';' || code == ',') {
        if (start == -1) return false;
        if (end == -1) end = at;
        std::string value = slice(start, end);
        if (must_unescape) {
          value = RemoveBackslashes(value);
          must_unescape = false;
        }
        params.push_back(ExtensionParam{std::move(param), std::move(value), true});
        if (code == ',') {
          push_offer(std::move(extension));
          have_extension = false;
        }
        have_param = false;
        start = end = -1;
      } else {
        return false;
      }
    }
  }

  if (start == -1 || in_quotes || code == ' ' || code == '\t') return false;
  if (end == -1) end = static_cast<long>(i);
  std::string token = slice(start, end);
  if (!have_extension) {
    push_offer(std::move(token));
  } else {
    if (!have_param) {
      params.push_back(ExtensionParam{std::move(token), std::string(), false});
    } else {
      params.push_back(ExtensionParam{std::move(param), must_unescape ? RemoveBackslashes(token) : token, true});
    }
    push_offer(std::move(extension));
  }
  return true;
}

// RFC 7692 §7.1.2: a decimal integer 8..15 without leading zeroes.
bool ParseWindowBits(const std::string& value, int* bits) {
  if (value.empty() || value.size() > 2 || value[0] == '0') return false;
  int n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return false;
  *bits = n;
  return true;
}

// Checks one permessage-deflate offer (RFC 7692 §7); on success fills *params and *response.
bool AcceptOffer(const ExtensionOffer& offer, DeflateParams* params, std::string* response) {
  bool server_nct = false, client_nct = false, server_bits_seen = false, client_bits_seen = false;
  int server_bits = 15, client_bits = 15;
  for (const ExtensionParam& p : offer.params) {
    if (p.name == "server_no_context_takeover") {
      if (server_nct || p.has_value) return false;
      server_nct = true;
    } else if (p.name == "client_no_context_takeover") {
      if (client_nct || p.has_value) return false;
      client_nct = true;
    } else if (p.name == "server_max_window_bits") {
      if (server_bits_seen || !p.has_value || !ParseWindowBits(p.value, &server_bits)) return false;
      server_bits_seen = true;
    } else if (p.name == "client_max_window_bits") {
      if (client_bits_seen || (p.has_value && !ParseWindowBits(p.value, &client_bits))) return false;
      client_bits_seen = true;
    } else {
      return false;
    }
  }
  params->server_no_context_takeover = server_nct;
  params->client_no_context_takeover = client_nct;
  params->server_max_window_bits = server_bits;
  params->client_max_window_bits = client_bits;
  std::string r = "permessage-deflate";
  if (server_nct) r += "; server_no_context_takeover";
  if (client_nct) r += "; client_no_context_takeover";
  if (server_bits_seen) r += "; server_max_window_bits=" + std::to_string(server_bits);
  if (client_bits_seen) r += "; client_max_window_bits=" + std::to_string(client_bits);
  *response = std::move(r);
  return true;
}

// Makes *s hold `size` bytes, keeping its first `keep`, with a capacity of exactly `size` when it must grow
// (std::string's own growth may double the capacity, overshooting a limit).
void ResizeExact(std::string* s, size_t keep, size_t size) {
  if (size <= s->capacity()) {
    s->resize(size);
    return;
  }
  std::string bigger;
  bigger.reserve(size);
  bigger.append(s->data(), keep);
  bigger.resize(size);
  s->swap(bigger);
}

}  // namespace

bool NegotiateDeflate(const std::string& header, bool* accepted, DeflateParams* params, std::string* response) {
  *accepted = false;
  std::vector<ExtensionOffer> offers;
  if (!ParseExtensions(header, &offers)) return false;
  bool offered = false;
  for (const ExtensionOffer& offer : offers) {
    if (offer.name != "permessage-deflate") continue;
    offered = true;
    DeflateParams candidate = *params;
    std::string candidate_response;
    if (AcceptOffer(offer, &candidate, &candidate_response)) {
      *params = candidate;
      *response = std::move(candidate_response);
      *accepted = true;
      return true;
    }
  }
  return !offered;
}

WsDeflate::WsDeflate(const DeflateParams& params) : params_(params) {}

WsDeflate::~WsDeflate() {
  if (deflate_ready_) deflateEnd(&deflate_);
  if (inflate_ready_) inflateEnd(&inflate_);
}

bool WsDeflate::Compress(const char* data, size_t size, std::string* out) {
  out->clear();
  if (!deflate_ready_) {
    int bits = params_.server_max_window_bits <= 8 ? 9 : std::min(params_.server_max_window_bits, 15);
    if (deflateInit2(&deflate_, params_.compression_level, Z_DEFLATED, -bits, params_.mem_level,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      return false;
    }
    deflate_ready_ = true;
  }
  // A sync flush adds an empty stored block (at most 5 bytes plus the pending bits) to deflateBound's figure.
  size_t capacity = deflateBound(&deflate_, static_cast<uLong>(std::min(size, kMaxZlibChunk))) + 16;
  out->resize(capacity);
  size_t produced = 0;
  const Bytef* in = reinterpret_cast<const Bytef*>(data);
  size_t left = size;
  for (;;) {
    if (deflate_.avail_in == 0) {
      size_t n = std::min(left, kMaxZlibChunk);
      deflate_.next_in = const_cast<Bytef*>(in);
      deflate_.avail_in = static_cast<uInt>(n);
      in += n;
      left -= n;
    }
    if (produced == out->size()) out->resize(out->size() * 2);
    size_t room = std::min(out->size() - produced, kMaxZlibChunk);
    deflate_.next_out = reinterpret_cast<Bytef*>(&(*out)[produced]);
    deflate_.avail_out = static_cast<uInt>(room);
    int rc = deflate(&deflate_, left == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    produced += room - deflate_.avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      deflateReset(&deflate_);
      out->clear();
      return false;
    }
    if (deflate_.avail_in == 0 && left == 0 && deflate_.avail_out != 0) break;
  }
  deflate_.next_in = nullptr;
  deflate_.next_out = nullptr;
  // The sync flush ends with an empty stored block, 00 00 ff ff, which RFC 7692 §7.2.1 drops.
  if (produced >= 4 && std::memcmp(out->data() + produced - 4, "\x00\x00\xff\xff", 4) == 0) produced -= 4;
  // zlib emits nothing for an empty message right after another flush; send the canonical empty block
  // (RFC 7692 §7.2.3.6) rather than an empty payload. The stream is byte-aligned after a flush.
  if (produced == 0) (*out)[produced++] = '\0';
  out->resize(produced);
  if (params_.server_no_context_takeover) deflateReset(&deflate_);
  return true;
}

bool WsDeflate::Decompress(const char* data, size_t size, size_t max_size, std::string* out, bool* too_big) {
  *too_big = false;
  out->clear();
  if (!inflate_ready_) {
    // Always a 32 KiB window: a larger window than the client's decodes its data all the same.
    if (inflateInit2(&inflate_, -15) != Z_OK) return false;
    inflate_ready_ = true;
  }
  static const unsigned char kTail[4] = {0x00, 0x00, 0xff, 0xff};
  const Bytef* pieces[2] = {reinterpret_cast<const Bytef*>(data), kTail};
  size_t left[2] = {size, 4};
  int piece = 0;
  // The output may hold max_size + 1 bytes: reaching that many means the message is too big.
  const size_t cap = (max_size == 0 || max_size == SIZE_MAX) ? SIZE_MAX : max_size + 1;
  size_t produced = 0;
  bool ended = false;
  inflate_.avail_in = 0;
  for (;;) {
    if (inflate_.avail_in == 0) {
      while (piece < 2 && left[piece] == 0) piece++;
      if (piece < 2) {
        size_t n = std::min(left[piece], kMaxZlibChunk);
        inflate_.next_in = const_cast<Bytef*>(pieces[piece]);
        inflate_.avail_in = static_cast<uInt>(n);
        pieces[piece] += n;
        left[piece] -= n;
      }
    }
    if (produced == out->size()) {
      if (produced >= cap) {
        *too_big = true;
        out->clear();
        return false;
      }
      size_t grown = std::max<size_t>(produced * 2, std::max<size_t>(size * 4, 256));
      if (grown < produced) grown = SIZE_MAX;  // overflow
      ResizeExact(out, produced, std::min(grown, cap));
    }
    size_t room = std::min(out->size() - produced, kMaxZlibChunk);
    inflate_.next_out = reinterpret_cast<Bytef*>(&(*out)[produced]);
    inflate_.avail_out = static_cast<uInt>(room);
    uInt in_before = inflate_.avail_in;
    int rc = inflate(&inflate_, Z_SYNC_FLUSH);
    produced += room - inflate_.avail_out;
    if (rc == Z_STREAM_END) {  // the message ended with a BFINAL block (RFC 7692 §7.2.3.4): the rest is moot
      ended = true;
      break;
    }
    bool stuck = rc == Z_BUF_ERROR && in_before == inflate_.avail_in && inflate_.avail_out == room &&
                 inflate_.avail_in != 0;
    if ((rc != Z_OK && rc != Z_BUF_ERROR) || stuck) {
      out->clear();
      return false;
    }
    if (inflate_.avail_in == 0 && left[0] == 0 && left[1] == 0 && inflate_.avail_out != 0) break;
  }
  inflate_.next_in = nullptr;
  inflate_.next_out = nullptr;
  out->resize(produced);
  if (ended || params_.client_no_context_takeover) inflateReset(&inflate_);
  return true;
}

}  // namespace node_asgi::server
