// SHA-1 and base64, just enough for the WebSocket handshake's Sec-WebSocket-Accept (no OpenSSL: Node-free).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace node_asgi::server {

// The 20-byte SHA-1 digest (FIPS 180-4) of `size` bytes at `data`.
void Sha1(const void* data, size_t size, uint8_t digest[20]);

// Standard base64 (RFC 4648 §4, with '=' padding).
std::string Base64Encode(const void* data, size_t size);

}  // namespace node_asgi::server
