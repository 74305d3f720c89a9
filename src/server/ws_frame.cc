// RFC 6455 framing: the client → server frame reader and the server → client frame writers.
#include "ws_frame.h"

#include <cstring>
#include <utility>

namespace node_asgi::server {

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ull;

// Validates UTF-8 (RFC 3629). With allow_partial, a sequence cut off by the end of the data is accepted
// as long as its bytes so far could still begin a valid character; *complete is then set to where it
// starts (else to size). The second byte's range excludes overlongs (E0, F0), surrogates (ED) and code
// points above U+10FFFF (F4), so bad sequences fail as early as their second byte.
bool ValidateUtf8(const uint8_t* s, size_t size, bool allow_partial, size_t* complete) {
  size_t i = 0;
  while (i < size) {
    // ASCII fast path, 16 then 8 bytes at a time.
    while (i + 16 <= size) {
      uint64_t a, b;
      std::memcpy(&a, s + i, 8);
      std::memcpy(&b, s + i + 8, 8);
      if ((a | b) & kHighBits) break;
      i += 16;
    }
    while (i + 8 <= size) {
      uint64_t a;
      std::memcpy(&a, s + i, 8);
      if (a & kHighBits) break;
      i += 8;
    }
    while (i < size && s[i] < 0x80) i++;
    if (i == size) break;
    uint8_t c = s[i];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (c == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return false;  // 80-BF (stray continuation), C0-C1 (overlong), F5-FF
    }
    size_t avail = size - i;
    size_t check = avail < len ? avail : len;
    if (check >= 2 && (s[i + 1] < lo || s[i + 1] > hi)) return false;
    for (size_t k = 2; k < check; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
    }
    if (avail < len) {
      if (!allow_partial) return false;
      *complete = i;
      return true;
    }
    i += len;
  }
  *complete = size;
  return true;
}

// XORs n bytes with the 4-byte mask, starting `phase` bytes into it; 8 bytes at a time.
void Unmask(char* p, size_t n, const uint8_t mask[4], size_t phase) {
  uint8_t m[8];
  for (size_t k = 0; k < 8; k++) m[k] = mask[(phase + k) & 3];
  uint64_t m64;
  std::memcpy(&m64, m, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    v ^= m64;
    std::memcpy(p + i, &v, 8);
  }
  for (; i < n; i++) p[i] = static_cast<char>(p[i] ^ m[i & 7]);
}

// The length of a client frame's header given its second byte: 2, the extended length, the mask key.
inline size_t HeaderSize(uint8_t b1) {
  uint8_t len = b1 & 0x7F;
  return 2 + (len == 126 ? 2 : len == 127 ? 8 : 0) + ((b1 & 0x80) ? 4 : 0);
}

bool IsValidCloseCode(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

}  // namespace

bool IsValidUtf8(const char* data, size_t size) {
  size_t complete;
  return ValidateUtf8(reinterpret_cast<const uint8_t*>(data), size, false, &complete);
}

WsFrameReader::WsFrameReader(WsFrameSink* sink, size_t max_message_size, WsDeflate* deflate)
    : sink_(sink), max_message_size_(max_message_size == 0 ? SIZE_MAX : max_message_size), deflate_(deflate) {
  // A compressed message may be a little bigger on the wire than its content (stored blocks); the real
  // limit is applied while inflating. This one only bounds the compressed bytes kept.
  size_t slack = max_message_size_ / 16 + 1024;
  max_compressed_size_ = max_message_size_ > SIZE_MAX - slack ? SIZE_MAX : max_message_size_ + slack;
}

void WsFrameReader::Fail(int code, const char* reason) {
  stopped_ = true;
  in_payload_ = false;
  std::string().swap(message_);
  std::string().swap(control_);
  sink_->OnWsProtocolError(code, reason);
}

void WsFrameReader::Feed(const char* data, size_t size) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data);
  while (size > 0 && !stopped_) {
    if (in_payload_) {
      size_t n = remaining_ < size ? static_cast<size_t>(remaining_) : size;
      std::string& target = opcode_ >= 8 ? control_ : message_;
      size_t offset = target.size();
      target.append(reinterpret_cast<const char*>(p), n);
      Unmask(&target[offset], n, mask_, mask_phase_);
      mask_phase_ = (mask_phase_ + n) & 3;
      remaining_ -= n;
      p += n;
      size -= n;
      if (remaining_ == 0) FinishFrame();
      continue;
    }
    // Fast path: the whole header is in this chunk.
    if (header_len_ == 0 && size >= 2) {
      size_t need = HeaderSize(p[1]);
      if (size >= need) {
        const uint8_t* header = p;
        p += need;
        size -= need;
        StartFrame(header);
        continue;
      }
    }
    // Slow path: assemble the header in header_, judging the first two bytes as soon as they are here.
    size_t need = header_len_ < 2 ? 2 : HeaderSize(header_[1]);
    size_t n = need - header_len_ < size ? need - header_len_ : size;
    std::memcpy(header_ + header_len_, p, n);
    header_len_ += n;
    p += n;
    size -= n;
    if (header_len_ < need) break;  // out of input
    if (need == 2) {
      if (!StartFrameCheck(header_[0], header_[1])) return;
      if (HeaderSize(header_[1]) > 2) continue;
    }
    header_len_ = 0;
    StartFrame(header_);
  }
}

bool WsFrameReader::StartFrameCheck(uint8_t b0, uint8_t b1) {
  if (b0 & 0x30) {
    Fail(1002, "RSV2 and RSV3 must be clear");
    return false;
  }
  const bool rsv1 = b0 & 0x40;
  const uint8_t opcode = b0 & 0x0F;
  if (opcode == kContinuation) {
    if (rsv1) {
      Fail(1002, "RSV1 must be clear");
      return false;
    }
    if (!in_message_) {
      Fail(1002, "continuation frame without a message to continue");
      return false;
    }
  } else if (opcode == kText || opcode == kBinary) {
    if (in_message_) {
      Fail(1002, "new data frame inside a fragmented message");
      return false;
    }
    if (rsv1 && deflate_ == nullptr) {
      Fail(1002, "RSV1 must be clear");
      return false;
    }
  } else if (opcode == kClose || opcode == kPing || opcode == kPong) {
    if (!(b0 & 0x80)) {
      Fail(1002, "FIN must be set on a control frame");
      return false;
    }
    if (rsv1) {
      Fail(1002, "RSV1 must be clear");
      return false;
    }
    if ((b1 & 0x7F) > 125) {
      Fail(1002, "control frame payload longer than 125 bytes");
      return false;
    }
  } else {
    Fail(1002, "reserved opcode");
    return false;
  }
  if (!(b1 & 0x80)) {
    Fail(1002, "MASK must be set");
    return false;
  }
  return true;
}

bool WsFrameReader::StartFrame(const uint8_t* h) {
  if (!StartFrameCheck(h[0], h[1])) return false;
  const uint8_t opcode = h[0] & 0x0F;
  uint64_t length = h[1] & 0x7F;
  size_t pos = 2;
  if (length == 126) {
    length = (uint64_t{h[2]} << 8) | h[3];
    pos = 4;
  } else if (length == 127) {
    length = 0;
    for (int k = 0; k < 8; k++) length = (length << 8) | h[2 + k];
    pos = 10;
    if (length >> 63) {
      Fail(1002, "the most significant bit of a 64-bit payload length must be 0");
      return false;
    }
  }
  std::memcpy(mask_, h + pos, 4);
  mask_phase_ = 0;
  opcode_ = opcode;
  fin_ = h[0] & 0x80;
  if (opcode >= 8) {
    control_.clear();
  } else {
    if (opcode != kContinuation) {
      in_message_ = true;
      message_text_ = opcode == kText;
      message_compressed_ = h[0] & 0x40;
      message_.clear();
      utf8_checked_ = 0;
    }
    const size_t limit = message_compressed_ ? max_compressed_size_ : max_message_size_;
    if (length > limit - message_.size()) {
      Fail(1009, "message too big");
      return false;
    }
  }
  remaining_ = length;
  in_payload_ = true;
  if (length == 0) FinishFrame();
  return true;
}

void WsFrameReader::FinishFrame() {
  in_payload_ = false;
  if (opcode_ >= 8) {
    FinishControlFrame();
    return;
  }
  if (fin_) {
    FinishMessage();
    return;
  }
  // A fragment of an uncompressed text message: judge what is complete so far (a character split
  // between fragments waits for the next one), so that bad text fails without waiting for the end.
  if (message_text_ && !message_compressed_) {
    size_t complete;
    const uint8_t* s = reinterpret_cast<const uint8_t*>(message_.data());
    if (!ValidateUtf8(s + utf8_checked_, message_.size() - utf8_checked_, true, &complete)) {
      Fail(1007, "invalid UTF-8 in a text message");
      return;
    }
    utf8_checked_ += complete;
  }
}

void WsFrameReader::FinishMessage() {
  in_message_ = false;
  if (message_compressed_) {
    std::string inflated;
    bool too_big = false;
    if (!deflate_->Decompress(message_.data(), message_.size(), max_message_size_, &inflated, &too_big)) {
      if (too_big) {
        Fail(1009, "message too big");
      } else {
        Fail(1007, "invalid compressed data");
      }
      return;
    }
    message_.swap(inflated);
    utf8_checked_ = 0;
  }
  if (message_text_) {
    size_t complete;
    const uint8_t* s = reinterpret_cast<const uint8_t*>(message_.data());
    if (!ValidateUtf8(s + utf8_checked_, message_.size() - utf8_checked_, false, &complete)) {
      Fail(1007, "invalid UTF-8 in a text message");
      return;
    }
  }
  utf8_checked_ = 0;
  sink_->OnWsMessage(message_text_, std::move(message_));
  message_.clear();
}

void WsFrameReader::FinishControlFrame() {
  if (opcode_ == kPing) {
    sink_->OnWsPing(std::move(control_));
    control_.clear();
  } else if (opcode_ == kPong) {
    sink_->OnWsPong(std::move(control_));
    control_.clear();
  } else {  // kClose
    if (control_.empty()) {
      stopped_ = true;
      std::string().swap(message_);
      sink_->OnWsClose(1005, std::string());
      return;
    }
    if (control_.size() == 1) {
      Fail(1002, "invalid close frame payload length");
      return;
    }
    int code = (static_cast<uint8_t>(control_[0]) << 8) | static_cast<uint8_t>(control_[1]);
    if (!IsValidCloseCode(code)) {
      Fail(1002, "invalid close code");
      return;
    }
    if (!IsValidUtf8(control_.data() + 2, control_.size() - 2)) {
      Fail(1007, "invalid UTF-8 in a close reason");
      return;
    }
    stopped_ = true;
    std::string().swap(message_);
    std::string reason = control_.substr(2);
    std::string().swap(control_);
    sink_->OnWsClose(code, std::move(reason));
  }
}

void AppendWsFrame(std::string* out, WsOpcode opcode, const char* data, size_t size, bool fin, bool rsv1) {
  char h[10];
  size_t header_size;
  h[0] = static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0F));
  if (size < 126) {
    h[1] = static_cast<char>(size);
    header_size = 2;
  } else if (size <= 0xFFFF) {
    h[1] = 126;
    h[2] = static_cast<char>(size >> 8);
    h[3] = static_cast<char>(size);
    header_size = 4;
  } else {
    h[1] = 127;
    uint64_t n = size;
    for (int k = 0; k < 8; k++) h[2 + k] = static_cast<char>(n >> (56 - 8 * k));
    header_size = 10;
  }
  out->reserve(out->size() + header_size + size);
  out->append(h, header_size);
  if (size > 0) out->append(data, size);
}

void AppendWsClose(std::string* out, int code, const std::string& reason) {
  if (code == 1005) {
    AppendWsFrame(out, kClose, nullptr, 0);
    return;
  }
  size_t reason_size = reason.size();
  if (reason_size > 123) {
    reason_size = 123;
    // Back off to the start of the character the cut would split.
    while (reason_size > 0 && (static_cast<uint8_t>(reason[reason_size]) & 0xC0) == 0x80) reason_size--;
  }
  char payload[125];
  payload[0] = static_cast<char>((code >> 8) & 0xFF);
  payload[1] = static_cast<char>(code & 0xFF);
  std::memcpy(payload + 2, reason.data(), reason_size);
  AppendWsFrame(out, kClose, payload, 2 + reason_size);
}

bool AppendWsMessage(std::string* out, bool text, const char* data, size_t size, WsDeflate* deflate) {
  const WsOpcode opcode = text ? kText : kBinary;
  if (deflate == nullptr) {
    AppendWsFrame(out, opcode, data, size);
    return true;
  }
  std::string compressed;
  if (!deflate->Compress(data, size, &compressed)) return false;
  AppendWsFrame(out, opcode, compressed.data(), compressed.size(), true, true);
  return true;
}

}  // namespace node_asgi::server
