// permessage-deflate (RFC 7692): negotiation of Sec-WebSocket-Extensions offers and the zlib streams.
#include "ws_deflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

namespace {

using node_asgi::server::DeflateParams;
using node_asgi::server::NegotiateDeflate;
using node_asgi::server::WsDeflate;

struct Negotiated {
  bool ok = false;
  bool accepted = false;
  DeflateParams params;
  std::string response;
};

Negotiated Negotiate(const std::string& header) {
  Negotiated n;
  n.ok = NegotiateDeflate(header, &n.accepted, &n.params, &n.response);
  return n;
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s += static_cast<char>(b);
  return s;
}

std::string Compress(WsDeflate* d, const std::string& s) {
  std::string out;
  EXPECT_TRUE(d->Compress(s.data(), s.size(), &out));
  return out;
}

std::string Decompress(WsDeflate* d, const std::string& s, size_t max = 0) {
  std::string out;
  bool too_big = true;
  EXPECT_TRUE(d->Decompress(s.data(), s.size(), max, &out, &too_big));
  EXPECT_FALSE(too_big);
  return out;
}

TEST(WsDeflateNegotiation, PlainOfferAcceptedWithDefaults) {
  Negotiated n = Negotiate("permessage-deflate");
  EXPECT_TRUE(n.ok);
  EXPECT_TRUE(n.accepted);
  EXPECT_EQ(n.response, "permessage-deflate");
  EXPECT_FALSE(n.params.server_no_context_takeover);
  EXPECT_FALSE(n.params.client_no_context_takeover);
  EXPECT_EQ(n.params.server_max_window_bits, 15);
  EXPECT_EQ(n.params.client_max_window_bits, 15);
}

TEST(WsDeflateNegotiation, ClientMaxWindowBitsAnsweredOnlyWhenOffered) {
  Negotiated chrome = Negotiate("permessage-deflate; client_max_window_bits");
  EXPECT_TRUE(chrome.accepted);
  EXPECT_EQ(chrome.response, "permessage-deflate; client_max_window_bits=15");
  Negotiated valued = Negotiate("permessage-deflate;client_max_window_bits=10");
  EXPECT_EQ(valued.response, "permessage-deflate; client_max_window_bits=10");
  EXPECT_EQ(valued.params.client_max_window_bits, 10);
}

TEST(WsDeflateNegotiation, EveryParameterEchoed) {
  Negotiated n = Negotiate(
      "permessage-deflate; client_max_window_bits=12; server_max_window_bits=10; client_no_context_takeover; "
      "server_no_context_takeover");
  EXPECT_TRUE(n.accepted);
  EXPECT_EQ(n.response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
            "client_max_window_bits=12");
  EXPECT_TRUE(n.params.server_no_context_takeover);
  EXPECT_TRUE(n.params.client_no_context_takeover);
  EXPECT_EQ(n.params.server_max_window_bits, 10);
  EXPECT_EQ(n.params.client_max_window_bits, 12);
}

TEST(WsDeflateNegotiation, WindowBits8To15AcceptedOthersNot) {
  for (int bits = 8; bits <= 15; bits++) {
    Negotiated s = Negotiate("permessage-deflate; server_max_window_bits=" + std::to_string(bits));
    EXPECT_TRUE(s.accepted) << bits;
    EXPECT_EQ(s.params.server_max_window_bits, bits);
    EXPECT_EQ(s.response, "permessage-deflate; server_max_window_bits=" + std::to_string(bits));
    Negotiated c = Negotiate("permessage-deflate; client_max_window_bits=" + std::to_string(bits));
    EXPECT_TRUE(c.accepted) << bits;
    EXPECT_EQ(c.params.client_max_window_bits, bits);
  }
  Negotiated quoted = Negotiate("permessage-deflate; server_max_window_bits=\"10\"");
  EXPECT_TRUE(quoted.accepted);
  EXPECT_EQ(quoted.params.server_max_window_bits, 10);
  for (const char* bad : {"0", "7", "16", "08", "1e1", "+9", "abc", "99999999999999999999"}) {
    EXPECT_FALSE(Negotiate(std::string("permessage-deflate; server_max_window_bits=") + bad).ok) << bad;
    EXPECT_FALSE(Negotiate(std::string("permessage-deflate; client_max_window_bits=") + bad).ok) << bad;
  }
  EXPECT_FALSE(Negotiate("permessage-deflate; server_max_window_bits").ok);  // a value is required
}

TEST(WsDeflateNegotiation, BadDuplicateOrUnknownParamsRejectTheOffer) {
  for (const char* bad : {
           "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
           "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
           "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
           "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
           "permessage-deflate; server_no_context_takeover=1",
           "permessage-deflate; client_no_context_takeover=true",
           "permessage-deflate; x_unknown",
           "permessage-deflate; mux=1",
       }) {
    Negotiated n = Negotiate(bad);
    EXPECT_FALSE(n.ok) << bad;
    EXPECT_FALSE(n.accepted) << bad;
  }
}

TEST(WsDeflateNegotiation, FirstAcceptableOfferWins) {
  Negotiated n = Negotiate(
      "permessage-deflate; server_max_window_bits=7, permessage-deflate; x=1, "
      "permessage-deflate; client_no_context_takeover, permessage-deflate");
  EXPECT_TRUE(n.ok);
  EXPECT_TRUE(n.accepted);
  EXPECT_EQ(n.response, "permessage-deflate; client_no_context_takeover");
  EXPECT_TRUE(n.params.client_no_context_takeover);

  Negotiated after_other = Negotiate("x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=9");
  EXPECT_TRUE(after_other.accepted);
  EXPECT_EQ(after_other.params.server_max_window_bits, 9);
}

TEST(WsDeflateNegotiation, NoDeflateOfferIsFineButNotAccepted) {
  for (const char* other : {"x-webkit-deflate-frame", "foo; bar=1; baz, qux", "Permessage-Deflate"}) {
    Negotiated n = Negotiate(other);
    EXPECT_TRUE(n.ok) << other;
    EXPECT_FALSE(n.accepted) << other;
    EXPECT_EQ(n.response, "") << other;
  }
}

TEST(WsDeflateNegotiation, SyntaxErrorsFailAsInWs) {
  for (const char* bad : {"", ",", ";", "permessage-deflate;", "permessage-deflate,", "permessage-deflate,,x",
                          "permessage-deflate; a b", "permessage-deflate; a=b c", "permessage-deflate; =1",
                          "permessage-deflate; a = 1", "permessage-deflate; a=\"1", "permessage-deflate; a=\"\"",
                          "permessage-deflate; a=\"1 2\"", "perm@ssage", "a=b", "x-foo; p=\"\\\"\""}) {
    EXPECT_FALSE(Negotiate(bad).ok) << bad;
  }
  // Whitespace around the value, around elements and escaped token characters in quotes are fine.
  EXPECT_TRUE(Negotiate("  permessage-deflate ;\tclient_max_window_bits ,  x ").accepted);
  EXPECT_TRUE(Negotiate("permessage-deflate; server_max_window_bits=\"1\\0\"").accepted);
  EXPECT_EQ(Negotiate("permessage-deflate; server_max_window_bits=\"1\\0\"").params.server_max_window_bits, 10);
}

// RFC 7692 §7.2.3.1: "Hello" compressed is f2 48 cd c9 c9 07 00 (the sync flush's 00 00 ff ff removed).
TEST(WsDeflateCodec, HelloMatchesRfc7692Example) {
  WsDeflate d{DeflateParams()};
  EXPECT_EQ(Compress(&d, "Hello"), Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  WsDeflate peer{DeflateParams()};
  EXPECT_EQ(Decompress(&peer, Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
}

// RFC 7692 §7.2.3.2: with the LZ77 window shared, the second "Hello" is f2 00 11 00 00.
TEST(WsDeflateCodec, ContextTakeoverSharesTheWindowAsRfc7692Shows) {
  WsDeflate d{DeflateParams()};
  EXPECT_EQ(Compress(&d, "Hello"), Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
  EXPECT_EQ(Compress(&d, "Hello"), Bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
  WsDeflate peer{DeflateParams()};
  EXPECT_EQ(Decompress(&peer, Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
  EXPECT_EQ(Decompress(&peer, Bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
}

TEST(WsDeflateCodec, NoContextTakeoverCompressesEachMessageAlone) {
  DeflateParams p;
  p.server_no_context_takeover = true;
  WsDeflate d{p};
  for (int i = 0; i < 3; i++) EXPECT_EQ(Compress(&d, "Hello"), Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST(WsDeflateCodec, ClientNoContextTakeoverForgetsTheWindow) {
  DeflateParams p;
  p.client_no_context_takeover = true;
  WsDeflate d{p};
  EXPECT_EQ(Decompress(&d, Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
  // The second message refers back into the first one's window, which the server has dropped.
  std::string out;
  bool too_big = true;
  EXPECT_FALSE(d.Decompress("\xf2\x00\x11\x00\x00", 5, 0, &out, &too_big));
  EXPECT_FALSE(too_big);
}

TEST(WsDeflateCodec, StoredAndBfinalBlocksFromRfc7692Decode) {
  WsDeflate d{DeflateParams()};
  // §7.2.3.3: DEFLATE block with no compression.
  EXPECT_EQ(Decompress(&d, Bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})), "Hello");
  // §7.2.3.4: a block with BFINAL set; the stream ends, and the next message starts afresh.
  EXPECT_EQ(Decompress(&d, Bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})), "Hello");
  EXPECT_EQ(Decompress(&d, Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
}

TEST(WsDeflateCodec, EmptyMessageIsOneZeroByte) {
  WsDeflate d{DeflateParams()};
  EXPECT_EQ(Compress(&d, ""), Bytes({0x00}));  // RFC 7692 §7.2.3.6
  EXPECT_EQ(Compress(&d, ""), Bytes({0x00}));  // zlib itself emits nothing for a second flush in a row
  std::string hello = Compress(&d, "Hello");
  EXPECT_EQ(Compress(&d, ""), Bytes({0x00}));
  WsDeflate peer{DeflateParams()};
  EXPECT_EQ(Decompress(&peer, Bytes({0x00})), "");
  EXPECT_EQ(Decompress(&peer, Bytes({0x00})), "");
  EXPECT_EQ(Decompress(&peer, hello), "Hello");
  EXPECT_EQ(Decompress(&peer, Bytes({0x00})), "");
  EXPECT_EQ(Decompress(&peer, ""), "");
}

TEST(WsDeflateCodec, RoundTripsManyMessagesWithAndWithoutContextTakeover) {
  std::mt19937 rng(42);
  for (bool takeover : {true, false}) {
    DeflateParams p;
    p.server_no_context_takeover = !takeover;
    p.client_no_context_takeover = !takeover;
    WsDeflate sender{p}, receiver{p};
    size_t first_size = 0, last_size = 0;
    for (int i = 0; i < 50; i++) {
      std::string message = "{\"type\":\"chat\",\"user\":\"alice\",\"text\":\"message number " + std::to_string(i) + "\"}";
      std::string wire = Compress(&sender, message);
      if (i == 0) first_size = wire.size();
      last_size = wire.size();
      EXPECT_EQ(Decompress(&receiver, wire), message);
    }
    if (takeover) {
      EXPECT_LT(last_size * 2, first_size);  // later messages mostly refer back to earlier ones
    } else {
      EXPECT_GE(last_size + 2, first_size);
    }
  }
}

TEST(WsDeflateCodec, LargeIncompressibleAndRepetitiveDataRoundTrip) {
  std::mt19937 rng(7);
  std::string random(3 << 20, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  std::string repetitive;
  while (repetitive.size() < (5 << 20)) repetitive += "abcabcabd-" + std::to_string(repetitive.size() % 977);
  WsDeflate sender{DeflateParams()}, receiver{DeflateParams()};
  for (const std::string* s : {&random, &repetitive, &random}) {
    std::string wire = Compress(&sender, *s);
    EXPECT_TRUE(Decompress(&receiver, wire) == *s);
  }
}

// Window bits 8: zlib's raw deflate cannot use 8, so 9 is used; its output must still decode with an
// 8-bit window (what a client that asked for server_max_window_bits=8 has).
TEST(WsDeflateCodec, EveryServerWindowSizeDecodesWithThatWindow) {
  std::string message;
  for (int i = 0; i < 2000; i++) message += "word" + std::to_string(i % 37) + " ";
  for (int bits = 8; bits <= 15; bits++) {
    DeflateParams p;
    p.server_max_window_bits = bits;
    WsDeflate d{p};
    z_stream z{};
    ASSERT_EQ(inflateInit2(&z, -bits), Z_OK) << bits;
    for (int round = 0; round < 3; round++) {  // later rounds refer back to earlier ones
      std::string wire = Compress(&d, message) + std::string("\x00\x00\xff\xff", 4);
      std::string out(message.size() + 16, '\0');
      z.next_in = reinterpret_cast<Bytef*>(&wire[0]);
      z.avail_in = static_cast<uInt>(wire.size());
      z.next_out = reinterpret_cast<Bytef*>(&out[0]);
      z.avail_out = static_cast<uInt>(out.size());
      EXPECT_EQ(inflate(&z, Z_SYNC_FLUSH), Z_OK) << "window bits " << bits << ", round " << round;
      out.resize(out.size() - z.avail_out);
      EXPECT_TRUE(out == message) << "window bits " << bits << ", round " << round;
    }
    inflateEnd(&z);
  }
}

TEST(WsDeflateCodec, ZipBombStoppedAtMaxSizeWithoutAllocatingBeyondIt) {
  std::string zeros(64 << 20, '\0');
  WsDeflate sender{DeflateParams()};
  std::string bomb = Compress(&sender, zeros);
  ASSERT_LT(bomb.size(), 100u << 10);
  WsDeflate receiver{DeflateParams()};
  std::string out;
  bool too_big = false;
  const size_t kMax = 1 << 20;
  EXPECT_FALSE(receiver.Decompress(bomb.data(), bomb.size(), kMax, &out, &too_big));
  EXPECT_TRUE(too_big);
  EXPECT_LE(out.capacity(), kMax + 1);
}

TEST(WsDeflateCodec, MaxSizeIsInclusive) {
  std::string message(100000, 'x');
  for (size_t max : {size_t{100000}, size_t{99999}}) {
    WsDeflate sender{DeflateParams()}, receiver{DeflateParams()};
    std::string wire = Compress(&sender, message);
    std::string out;
    bool too_big = false;
    bool ok = receiver.Decompress(wire.data(), wire.size(), max, &out, &too_big);
    EXPECT_EQ(ok, max == 100000) << max;
    EXPECT_EQ(too_big, max != 100000) << max;
    if (ok) {
      EXPECT_TRUE(out == message);
      EXPECT_LE(out.capacity(), max + 1);
    }
  }
}

TEST(WsDeflateCodec, GarbageFailsWithoutTooBig) {
  WsDeflate d{DeflateParams()};
  std::string out;
  bool too_big = true;
  EXPECT_FALSE(d.Decompress("\xff\xff\xff\xff", 4, 0, &out, &too_big));  // reserved block type 3
  EXPECT_FALSE(too_big);
}

}  // namespace
