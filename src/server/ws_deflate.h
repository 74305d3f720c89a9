// permessage-deflate (RFC 7692): negotiating the extension from a Sec-WebSocket-Extensions offer, and the
// per-connection zlib streams that compress outgoing and decompress incoming messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <zlib.h>

namespace node_asgi::server {

// What was agreed for one connection. Window bits are the negotiated values (8..15); the compressor
// uses 9 when 8 was agreed (zlib's raw deflate cannot do 8; with 9 its match distances stay below 256,
// so a peer with an 8-bit window still decodes it, as with ws and Node's zlib).
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;  // 8..15: the window our compressor may use
  int client_max_window_bits = 15;  // 8..15: the window the client said it will use
  // Additions (not negotiated): zlib's compression level (-1 = zlib's default 6) and memLevel (1..9).
  int compression_level = -1;
  int mem_level = 8;
};

// Parses a Sec-WebSocket-Extensions value (offers separated by commas, params by semicolons, parsed as the
// `ws` package does) and picks the first acceptable permessage-deflate offer (RFC 7692 §5, §7: a duplicate
// parameter, an unknown parameter or a bad value makes that offer unacceptable; the next one is tried).
// Returns false on a syntax error, or when there are permessage-deflate offers and none is acceptable
// (the handshake then fails with 400). Returns true with *accepted=false when nothing offers
// permessage-deflate. On acceptance fills *params and *response, the value for the 101's
// Sec-WebSocket-Extensions: "permessage-deflate" followed by each of server_no_context_takeover,
// client_no_context_takeover and server_max_window_bits=N that the offer had, then
// client_max_window_bits=N if the offer had it (N = the offered value, 15 when it had none).
bool NegotiateDeflate(const std::string& header, bool* accepted, DeflateParams* params, std::string* response);

// The zlib streams of one connection, after negotiation. Each stream is created on first use (a connection
// that never sends, or never receives, a compressed message pays nothing for it). Not thread-safe; after
// Decompress fails the object must not be used again (the connection is being closed anyway).
class WsDeflate {
 public:
  explicit WsDeflate(const DeflateParams& params);
  ~WsDeflate();
  WsDeflate(const WsDeflate&) = delete;
  WsDeflate& operator=(const WsDeflate&) = delete;

  // Compresses one whole message into *out (replacing its contents): sync flush, the trailing
  // 00 00 ff ff stripped (RFC 7692 §7.2.1). Resets the context afterwards when server_no_context_takeover.
  // Returns false only when zlib fails (out of memory).
  bool Compress(const char* data, size_t size, std::string* out);

  // Decompresses one whole message into *out (replacing its contents), appending 00 00 ff ff first
  // (RFC 7692 §7.2.2). Stops with *too_big=true as soon as the output would exceed max_size bytes, never
  // allocating more than max_size + 1 bytes for it (zip bombs); max_size 0 means no limit. Returns false
  // with *too_big=false when the data is not valid DEFLATE. Resets the context afterwards when
  // client_no_context_takeover.
  bool Decompress(const char* data, size_t size, size_t max_size, std::string* out, bool* too_big);

  const DeflateParams& params() const { return params_; }

 private:
  DeflateParams params_;
  z_stream deflate_{};
  z_stream inflate_{};
  bool deflate_ready_ = false;
  bool inflate_ready_ = false;
};

}  // namespace node_asgi::server
