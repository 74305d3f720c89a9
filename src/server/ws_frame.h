// RFC 6455 framing: the reader that turns a client's bytes into whole messages, pings, pongs and a close
// (or a protocol error with its close code), and the writers of server → client frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "ws_deflate.h"

namespace node_asgi::server {

enum WsOpcode : uint8_t { kContinuation = 0, kText = 1, kBinary = 2, kClose = 8, kPing = 9, kPong = 10 };

// What the reader reports. Callbacks run inside WsFrameReader::Feed: they must neither destroy the reader
// nor call Feed again (defer such work).
class WsFrameSink {
 public:
  virtual ~WsFrameSink() = default;
  // A whole message: defragmented, decompressed, and (text) valid UTF-8. The sink owns the bytes.
  virtual void OnWsMessage(bool text, std::string&& data) = 0;
  virtual void OnWsPing(std::string&& payload) = 0;
  virtual void OnWsPong(std::string&& payload) = 0;
  // The peer's close frame (code validated, reason valid UTF-8); code 1005 when it had no payload.
  virtual void OnWsClose(int code, std::string&& reason) = 0;
  // The peer broke the protocol; the connection must be closed with `code`: 1002 protocol error, 1007
  // invalid UTF-8 or undecodable compressed data, 1009 message too big. `reason` is a static string.
  virtual void OnWsProtocolError(int code, const char* reason) = 0;
};

// Parses the client → server byte stream of one connection. Partial frames are kept between Feed calls;
// payload bytes are unmasked straight into the message being assembled (one copy). Control frames may
// arrive between the fragments of a message.
class WsFrameReader {
 public:
  // max_message_size: the largest message (after decompression) accepted, 0 = no limit; a bigger one is
  // a 1009. deflate: the connection's permessage-deflate streams, or null when not negotiated (RSV1 is
  // then a protocol error). Neither pointer is owned; both must outlive the reader.
  WsFrameReader(WsFrameSink* sink, size_t max_message_size, WsDeflate* deflate);

  // Parses as much as possible. After OnWsClose or OnWsProtocolError it ignores all further input.
  // Valid close codes: 1000-1003, 1007-1014, 3000-4999.
  void Feed(const char* data, size_t size);
  bool stopped() const { return stopped_; }

  // Addition: the bytes of the message being assembled (fragments so far, or a frame's payload so far).
  size_t buffered() const { return message_.size(); }

 private:
  bool StartFrameCheck(uint8_t b0, uint8_t b1);  // the checks the first two header bytes allow
  bool StartFrame(const uint8_t* header);
  void FinishFrame();
  void FinishControlFrame();
  void FinishMessage();
  void Fail(int code, const char* reason);

  WsFrameSink* sink_;
  size_t max_message_size_;      // SIZE_MAX when unlimited
  size_t max_compressed_size_;   // the wire-size limit of a compressed message (a little over the above)
  WsDeflate* deflate_;

  // The frame header being assembled when it arrived in pieces.
  uint8_t header_[14];
  size_t header_len_ = 0;

  // The frame whose payload is being read.
  bool in_payload_ = false;
  uint8_t opcode_ = 0;
  bool fin_ = false;
  uint64_t remaining_ = 0;  // payload bytes still to come
  uint8_t mask_[4] = {0, 0, 0, 0};
  size_t mask_phase_ = 0;   // payload bytes already unmasked, mod 4

  // The data message being assembled (possibly over several frames).
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
  std::string message_;
  size_t utf8_checked_ = 0;  // message_[0, utf8_checked_) is known to be valid UTF-8 (uncompressed text only)

  std::string control_;  // the control frame's payload (at most 125 bytes)
  bool stopped_ = false;
};

// Server → client frames (unmasked), appended to *out.
void AppendWsFrame(std::string* out, WsOpcode opcode, const char* data, size_t size, bool fin = true,
                   bool rsv1 = false);
// A close frame: code 1005 → no payload; otherwise the code and the reason, truncated to 123 bytes on a
// UTF-8 character boundary.
void AppendWsClose(std::string* out, int code, const std::string& reason);
// A whole message in one frame, compressed (RSV1 set) when `deflate` is non-null, else plain. Returns false
// only when compression fails (nothing is appended then).
bool AppendWsMessage(std::string* out, bool text, const char* data, size_t size, WsDeflate* deflate);

// Whether the bytes are well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(const char* data, size_t size);

}  // namespace node_asgi::server
