// RFC 6455 framing: the frame reader (defragmenting, unmasking, UTF-8, deflate, every protocol error with its
// close code) and the server → client frame writers.
#include "ws_frame.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

using node_asgi::server::AppendWsClose;
using node_asgi::server::AppendWsFrame;
using node_asgi::server::AppendWsMessage;
using node_asgi::server::DeflateParams;
using node_asgi::server::IsValidUtf8;
using node_asgi::server::WsDeflate;
using node_asgi::server::WsFrameReader;
using node_asgi::server::WsFrameSink;
using node_asgi::server::WsOpcode;
namespace op = node_asgi::server;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s += static_cast<char>(b);
  return s;
}

// Records what the reader reports, one line per event ("text:Hello", "close:1000:bye", "error:1002").
class Recorder : public WsFrameSink {
 public:
  void OnWsMessage(bool text, std::string&& data) override { events.push_back((text ? "text:" : "binary:") + data); }
  void OnWsPing(std::string&& payload) override { events.push_back("ping:" + payload); }
  void OnWsPong(std::string&& payload) override { events.push_back("pong:" + payload); }
  void OnWsClose(int code, std::string&& reason) override {
    events.push_back("close:" + std::to_string(code) + ":" + reason);
  }
  void OnWsProtocolError(int code, const char* reason) override {
    events.push_back("error:" + std::to_string(code));
    reasons.push_back(reason);
  }
  std::vector<std::string> events;
  std::vector<std::string> reasons;
};

// A client frame: first byte b0 (FIN/RSV/opcode), masked with `mask`. length_bytes forces the length
// encoding (0: minimal, 2: 16-bit, 8: 64-bit).
std::string ClientFrame(uint8_t b0, const std::string& payload, uint32_t mask = 0x37fa213d, int length_bytes = 0,
                        bool masked = true) {
  std::string f(1, static_cast<char>(b0));
  const uint8_t mask_bit = masked ? 0x80 : 0;
  size_t n = payload.size();
  if (length_bytes == 0) length_bytes = n < 126 ? 0 : n <= 0xFFFF ? 2 : 8;
  if (length_bytes == 0) {
    f += static_cast<char>(mask_bit | n);
  } else if (length_bytes == 2) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int k = 7; k >= 0; k--) f += static_cast<char>(static_cast<uint64_t>(n) >> (8 * k));
  }
  uint8_t m[4] = {static_cast<uint8_t>(mask >> 24), static_cast<uint8_t>(mask >> 16), static_cast<uint8_t>(mask >> 8),
                  static_cast<uint8_t>(mask)};
  if (masked) f.append(reinterpret_cast<char*>(m), 4);
  for (size_t i = 0; i < n; i++) f += static_cast<char>(payload[i] ^ (masked ? m[i & 3] : 0));
  return f;
}

constexpr uint8_t kFin = 0x80, kRsv1 = 0x40;

std::string Text(const std::string& s) { return ClientFrame(kFin | op::kText, s); }

struct Conn {
  Recorder sink;
  std::unique_ptr<WsDeflate> deflate;
  std::unique_ptr<WsFrameReader> reader;
  explicit Conn(size_t max = 1 << 20, bool with_deflate = false, DeflateParams params = DeflateParams()) {
    if (with_deflate) deflate = std::make_unique<WsDeflate>(params);
    reader = std::make_unique<WsFrameReader>(&sink, max, deflate.get());
  }
  std::vector<std::string> Feed(const std::string& bytes) {
    reader->Feed(bytes.data(), bytes.size());
    return sink.events;
  }
};

std::vector<std::string> Events(const std::string& bytes, size_t max = 1 << 20, bool deflate = false) {
  Conn run(max, deflate);
  return run.Feed(bytes);
}

using Ev = std::vector<std::string>;

TEST(WsFrameReader, Rfc6455MaskedHelloAndPong) {
  // RFC 6455 §5.7: a single-frame masked text message, and a masked Pong, both "Hello".
  EXPECT_EQ(Events(Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})), Ev{"text:Hello"});
  EXPECT_EQ(Events(Bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})), Ev{"pong:Hello"});
}

TEST(WsFrameReader, SeveralFramesInOneFeedAndEmptyMessages) {
  std::string bytes = Text("a") + ClientFrame(kFin | op::kBinary, std::string("\x00\xff", 2)) + Text("") +
                      ClientFrame(kFin | op::kBinary, "") + ClientFrame(kFin | op::kPing, "") + Text("bc");
  EXPECT_EQ(Events(bytes), (Ev{"text:a", std::string("binary:\x00\xff", 9), "text:", "binary:", "ping:", "text:bc"}));
}

TEST(WsFrameReader, FragmentedMessageWithInterleavedControlFrames) {
  std::string bytes = ClientFrame(op::kText, "Hel") + ClientFrame(kFin | op::kPing, "p1") +
                      ClientFrame(op::kContinuation, "") + ClientFrame(kFin | op::kPong, "p2") +
                      ClientFrame(op::kContinuation, "lo, ") + ClientFrame(kFin | op::kContinuation, "world") +
                      ClientFrame(op::kBinary, "x") + ClientFrame(kFin | op::kContinuation, "y");
  EXPECT_EQ(Events(bytes), (Ev{"ping:p1", "pong:p2", "text:Hello, world", "binary:xy"}));
}

// A stream with every kind of frame and length encoding, fed whole, byte by byte and in random pieces.
TEST(WsFrameReader, ByteAtATimeAndRandomChunksEqualWholeFeeding) {
  std::mt19937 rng(1234);
  std::string big(70000, '\0');
  for (char& c : big) c = static_cast<char>('a' + rng() % 26);
  std::string stream = Text("first") + ClientFrame(kFin | op::kBinary, big) +
                       ClientFrame(kFin | op::kText, std::string(126, 'm'), 0x01020304) +
                       ClientFrame(kFin | op::kText, std::string(65535, 'n')) +
                       ClientFrame(op::kText, "caf\xc3", 0xdeadbeef) + ClientFrame(kFin | op::kPing, "between") +
                       ClientFrame(kFin | op::kContinuation, "\xa9!", 0) +
                       ClientFrame(kFin | op::kBinary, "short, 64-bit length", 0xffffffff, 8) +
                       ClientFrame(kFin | op::kPong, std::string(125, 'p')) +
                       ClientFrame(kFin | op::kClose, Bytes({0x03, 0xe8}) + "bye");
  Ev whole = Events(stream);
  ASSERT_EQ(whole.size(), 9u);
  EXPECT_EQ(whole[0], "text:first");
  EXPECT_TRUE(whole[1] == "binary:" + big);
  EXPECT_EQ(whole[4], "ping:between");
  EXPECT_EQ(whole[5], "text:caf\xc3\xa9!");
  EXPECT_EQ(whole[6], "binary:short, 64-bit length");
  EXPECT_EQ(whole[8], "close:1000:bye");

  Conn bytewise;
  for (char c : stream) bytewise.reader->Feed(&c, 1);
  EXPECT_TRUE(bytewise.sink.events == whole);

  for (int trial = 0; trial < 20; trial++) {
    Conn chunked;
    size_t pos = 0;
    while (pos < stream.size()) {
      size_t n = std::min<size_t>(stream.size() - pos, 1 + rng() % (trial < 10 ? 16 : 9000));
      chunked.reader->Feed(stream.data() + pos, n);
      pos += n;
    }
    EXPECT_TRUE(chunked.sink.events == whole) << "trial " << trial;
  }
}

TEST(WsFrameReader, SixtyFourBitLengths) {
  std::string payload(100000, 'z');
  Ev ev = Events(ClientFrame(kFin | op::kBinary, payload));  // 100000 > 65535: 64-bit length
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].size(), 7 + payload.size());
  // The most significant bit of a 64-bit length must be 0.
  std::string huge = Bytes({0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4});
  EXPECT_EQ(Events(huge), Ev{"error:1002"});
  // 2^40 bytes announced: refused from the header alone, nothing allocated.
  std::string announced = Bytes({0x82, 0xff, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4});
  Conn run(1 << 20);
  EXPECT_EQ(run.Feed(announced), Ev{"error:1009"});
  EXPECT_EQ(run.reader->buffered(), 0u);
}

TEST(WsFrameReader, ProtocolErrorsAre1002) {
  struct Case {
    const char* what;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"unmasked frame", ClientFrame(kFin | op::kText, "hi", 0, 0, false)},
      {"RSV1 without deflate", ClientFrame(kFin | kRsv1 | op::kText, "hi")},
      {"RSV2", ClientFrame(kFin | 0x20 | op::kText, "hi")},
      {"RSV3", ClientFrame(kFin | 0x10 | op::kText, "hi")},
      {"opcode 3", ClientFrame(kFin | 3, "hi")},
      {"opcode 7", ClientFrame(kFin | 7, "hi")},
      {"opcode 11", ClientFrame(kFin | 11, "")},
      {"opcode 15", ClientFrame(kFin | 15, "")},
      {"fragmented ping", ClientFrame(op::kPing, "hi")},
      {"fragmented close", ClientFrame(op::kClose, "")},
      {"ping of 126 bytes", ClientFrame(kFin | op::kPing, std::string(126, 'x'))},
      {"pong with 16-bit length 125", ClientFrame(kFin | op::kPong, std::string(125, 'x'), 1, 2)},
      {"continuation without start", ClientFrame(kFin | op::kContinuation, "hi")},
      {"text inside a fragmented message", ClientFrame(op::kText, "a") + ClientFrame(kFin | op::kText, "b")},
      {"binary inside a fragmented message", ClientFrame(op::kBinary, "a") + ClientFrame(op::kBinary, "b")},
      {"close payload of 1 byte", ClientFrame(kFin | op::kClose, "\x03")},
  };
  for (const Case& c : cases) EXPECT_EQ(Events(c.bytes), Ev{"error:1002"}) << c.what;
  // With deflate negotiated, RSV1 is still wrong on continuation and control frames.
  EXPECT_EQ(Events(ClientFrame(kRsv1 | op::kText, "a") + ClientFrame(kFin | kRsv1 | op::kContinuation, "b"), 1 << 20,
                   true),
            Ev{"error:1002"});
  EXPECT_EQ(Events(ClientFrame(kFin | kRsv1 | op::kPing, ""), 1 << 20, true), Ev{"error:1002"});
}

TEST(WsFrameReader, ErrorsFromTheFirstTwoHeaderBytesNeedNoMore) {
  Conn run;
  run.reader->Feed("\x81\x05", 2);  // unmasked, payload not here yet
  EXPECT_EQ(run.sink.events, Ev{"error:1002"});
  EXPECT_EQ(run.sink.reasons, std::vector<std::string>{"MASK must be set"});
}

TEST(WsFrameReader, CloseCodes) {
  auto close = [](int code, const std::string& reason = "") {
    return Events(ClientFrame(kFin | op::kClose,
                              std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason));
  };
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
    EXPECT_EQ(close(code, "why"), Ev{"close:" + std::to_string(code) + ":why"}) << code;
  }
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_EQ(close(code), Ev{"error:1002"}) << code;
  }
  EXPECT_EQ(Events(ClientFrame(kFin | op::kClose, "")), Ev{"close:1005:"});
  EXPECT_EQ(close(1000, "\xed\xa0\x80"), Ev{"error:1007"});  // a surrogate in the reason
  EXPECT_EQ(close(1000, std::string(123, 'r')), Ev{"close:1000:" + std::string(123, 'r')});
}

TEST(WsFrameReader, InputAfterCloseOrErrorIsIgnored) {
  Conn closed;
  EXPECT_EQ(closed.Feed(ClientFrame(kFin | op::kClose, Bytes({0x03, 0xe8})) + Text("late")), Ev{"close:1000:"});
  EXPECT_TRUE(closed.reader->stopped());
  EXPECT_EQ(closed.Feed(Text("later")), Ev{"close:1000:"});

  Conn failed;
  EXPECT_FALSE(failed.reader->stopped());
  EXPECT_EQ(failed.Feed(ClientFrame(kFin | 3, "") + Text("late")), Ev{"error:1002"});
  EXPECT_TRUE(failed.reader->stopped());
  EXPECT_EQ(failed.Feed(ClientFrame(kFin | op::kClose, "")), Ev{"error:1002"});
}

TEST(WsFrameReader, CloseDuringAFragmentedMessageDropsIt) {
  EXPECT_EQ(Events(ClientFrame(op::kText, "part") + ClientFrame(kFin | op::kClose, "")), Ev{"close:1005:"});
}

TEST(WsFrameReader, InvalidUtf8TextIs1007AndBinaryIsNotChecked) {
  EXPECT_EQ(Events(Text("\xc0\x80")), Ev{"error:1007"});
  EXPECT_EQ(Events(ClientFrame(kFin | op::kBinary, "\xc0\x80")), Ev{"binary:\xc0\x80"});
  EXPECT_EQ(Events(Text(std::string(40, 'a') + "\xff")), Ev{"error:1007"});
}

TEST(WsFrameReader, Utf8JudgedOnTheWholeFragmentedMessage) {
  // "€" (e2 82 ac) split over three fragments, with a ping in between.
  EXPECT_EQ(Events(ClientFrame(op::kText, "\xe2") + ClientFrame(kFin | op::kPing, "") +
                   ClientFrame(op::kContinuation, "\x82") + ClientFrame(kFin | op::kContinuation, "\xac")),
            (Ev{"ping:", "text:\xe2\x82\xac"}));
  // A 4-byte character split 1 + 3, with empty fragments around.
  EXPECT_EQ(Events(ClientFrame(op::kText, "a\xf0") + ClientFrame(op::kContinuation, "") +
                   ClientFrame(kFin | op::kContinuation, "\x9f\x98\x80")),
            Ev{"text:a\xf0\x9f\x98\x80"});
  // A message that ends inside a character.
  EXPECT_EQ(Events(ClientFrame(op::kText, "ok") + ClientFrame(kFin | op::kContinuation, "\xe2\x82")),
            Ev{"error:1007"});
}

TEST(WsFrameReader, InvalidUtf8InAFragmentFailsBeforeTheMessageEnds) {
  Conn run;
  // ed a0 can only begin a surrogate: already invalid, though the character is incomplete.
  EXPECT_EQ(run.Feed(ClientFrame(op::kText, "abc\xed\xa0")), Ev{"error:1007"});
  Conn overlong;
  EXPECT_EQ(overlong.Feed(ClientFrame(op::kText, "\xe0\x80")), Ev{"error:1007"});
  Conn fine;
  EXPECT_EQ(fine.Feed(ClientFrame(op::kText, "abc\xed\x9f")), Ev{});  // U+D7xx: still fine so far
}

TEST(WsFrameReader, MessageSizeLimitIs1009) {
  EXPECT_EQ(Events(Text(std::string(100, 'a')), 100), Ev{"text:" + std::string(100, 'a')});
  EXPECT_EQ(Events(Text(std::string(101, 'a')), 100), Ev{"error:1009"});
  EXPECT_EQ(Events(ClientFrame(op::kBinary, std::string(60, 'a')) + ClientFrame(kFin | op::kContinuation,
                                                                                   std::string(41, 'b')),
                   100),
            Ev{"error:1009"});
  // Control frames do not count towards a message.
  EXPECT_EQ(Events(ClientFrame(op::kBinary, std::string(60, 'a')) + ClientFrame(kFin | op::kPing, std::string(100, 'p')) +
                       ClientFrame(kFin | op::kContinuation, std::string(40, 'b')),
                   100),
            (Ev{"ping:" + std::string(100, 'p'), "binary:" + std::string(60, 'a') + std::string(40, 'b')}));
}

// RFC 7692 §7.2.3.1: "Hello" compressed, in one frame and in two fragments.
TEST(WsFrameReader, CompressedMessagesFromRfc7692) {
  const std::string compressed = Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});
  EXPECT_EQ(Events(ClientFrame(kFin | kRsv1 | op::kText, compressed), 1 << 20, true), Ev{"text:Hello"});
  EXPECT_EQ(Events(ClientFrame(kRsv1 | op::kText, compressed.substr(0, 3)) + ClientFrame(kFin | op::kPing, "x") +
                       ClientFrame(kFin | op::kContinuation, compressed.substr(3)),
                   1 << 20, true),
            (Ev{"ping:x", "text:Hello"}));
  // Uncompressed messages still work on a deflate connection; the shared window carries over.
  Conn run(1 << 20, true);
  EXPECT_EQ(run.Feed(ClientFrame(kFin | kRsv1 | op::kText, compressed) + Text("plain") +
                     ClientFrame(kFin | kRsv1 | op::kBinary, Bytes({0xf2, 0x00, 0x11, 0x00, 0x00}))),
            (Ev{"text:Hello", "text:plain", "binary:Hello"}));
}

TEST(WsFrameReader, CompressedErrors) {
  // Not DEFLATE → 1007.
  EXPECT_EQ(Events(ClientFrame(kFin | kRsv1 | op::kBinary, "\xff\xff\xff"), 1 << 20, true), Ev{"error:1007"});
  // Inflates to invalid UTF-8 → 1007.
  WsDeflate client{DeflateParams()};
  std::string bad;
  ASSERT_TRUE(client.Compress("\xc3\x28", 2, &bad));
  EXPECT_EQ(Events(ClientFrame(kFin | kRsv1 | op::kText, bad), 1 << 20, true), Ev{"error:1007"});
  // A zip bomb: 16 MiB of zeros in a few KiB, with a 1 MiB limit → 1009.
  WsDeflate bomber{DeflateParams()};
  std::string zeros(16 << 20, '\0'), bomb;
  ASSERT_TRUE(bomber.Compress(zeros.data(), zeros.size(), &bomb));
  ASSERT_LT(bomb.size(), 1u << 16);
  EXPECT_EQ(Events(ClientFrame(kFin | kRsv1 | op::kBinary, bomb), 1 << 20, true), Ev{"error:1009"});
}

TEST(WsFrameReader, CompressedMessageAtTheLimitPasses) {
  std::mt19937 rng(5);
  std::string incompressible(1 << 16, '\0');
  for (char& c : incompressible) c = static_cast<char>(rng());
  WsDeflate client{DeflateParams()};
  std::string wire;
  ASSERT_TRUE(client.Compress(incompressible.data(), incompressible.size(), &wire));
  ASSERT_GT(wire.size(), incompressible.size());  // bigger on the wire than the limit, yet acceptable
  Ev ev = Events(ClientFrame(kFin | kRsv1 | op::kBinary, wire), incompressible.size(), true);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0] == "binary:" + incompressible);
}

TEST(WsFrameReader, ZeroMaxMessageSizeMeansNoLimit) {
  EXPECT_EQ(Events(Text(std::string(1 << 20, 'a')), 0).size(), 1u);
}

// Garbage and mutated valid streams: never a crash, never an event after the close or the error.
TEST(WsFrameReader, RandomInputEndsCleanly) {
  std::mt19937 rng(99);
  const std::string valid = Text("hello") + ClientFrame(op::kText, "wor") + ClientFrame(kFin | op::kPing, "p") +
                            ClientFrame(kFin | op::kContinuation, "ld") +
                            ClientFrame(kFin | kRsv1 | op::kText, Bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})) +
                            ClientFrame(kFin | op::kBinary, std::string(300, 'b')) +
                            ClientFrame(kFin | op::kClose, Bytes({0x03, 0xe8}) + "ok");
  for (int trial = 0; trial < 3000; trial++) {
    std::string input;
    if (trial % 3 == 0) {
      input.resize(rng() % 400);
      for (char& c : input) c = static_cast<char>(rng());
    } else {
      input = valid;
      for (int flips = 1 + rng() % 4; flips > 0; flips--) input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
    }
    Conn conn(1000, trial % 2 == 0);
    size_t pos = 0;
    while (pos < input.size()) {
      size_t n = std::min<size_t>(input.size() - pos, 1 + rng() % 64);
      conn.reader->Feed(input.data() + pos, n);
      pos += n;
    }
    const Ev& ev = conn.sink.events;
    for (size_t i = 0; i + 1 < ev.size(); i++) {
      EXPECT_TRUE(ev[i].rfind("error:", 0) != 0 && ev[i].rfind("close:", 0) != 0) << "trial " << trial;
    }
    bool ended = !ev.empty() && (ev.back().rfind("error:", 0) == 0 || ev.back().rfind("close:", 0) == 0);
    EXPECT_EQ(conn.reader->stopped(), ended) << "trial " << trial;
  }
}

TEST(WsUtf8, ValidSequences) {
  for (const std::string& s : std::vector<std::string>{
           "", "plain ascii", std::string(1, '\0'), "\x7f", "\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80",
           "\xe2\x82\xac", "\xed\x9f\xbf" /* U+D7FF */, "\xee\x80\x80" /* U+E000 */, "\xef\xbf\xbf" /* U+FFFF */,
           "\xf0\x90\x80\x80" /* U+10000 */, "\xf4\x8f\xbf\xbf" /* U+10FFFF */,
           std::string(15, 'a') + "\xc3\xa9" + std::string(30, 'b') + "\xf0\x9f\x98\x80" + std::string(8, 'c'),
           "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"}) {
    EXPECT_TRUE(IsValidUtf8(s.data(), s.size())) << testing::PrintToString(s);
  }
}

TEST(WsUtf8, InvalidSequences) {
  for (const std::string& s : std::vector<std::string>{
           "\x80", "\xbf", "\xc0\x80", "\xc1\xbf",                 // stray continuation, overlong 2-byte
           "\xe0\x80\x80", "\xe0\x9f\xbf",                          // overlong 3-byte
           "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",                  // overlong 4-byte
           "\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\x80\xed\xb0\x80",  // surrogates (and a CESU-8 pair)
           "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf",  // above U+10FFFF
           "\xf8\x88\x80\x80\x80", "\xfe", "\xff",                  // 5-byte form, never-valid bytes
           "\xc3", "\xe2\x82", "\xf0\x9f\x98",                      // truncated at the end
           "\xe2\x28\xa1", "\xc3\x28", "\xf0\x9f\x28\x80",          // bad continuation
           std::string(17, 'a') + "\xc0\xaf" + std::string(20, 'a'),  // after the ASCII fast path
           std::string(33, 'a') + "\xe2\x82"}) {
    EXPECT_FALSE(IsValidUtf8(s.data(), s.size())) << testing::PrintToString(s);
  }
}

TEST(WsFrameWriter, Rfc6455ServerFrames) {
  std::string out;
  AppendWsFrame(&out, op::kText, "Hello", 5);
  EXPECT_EQ(out, Bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  AppendWsFrame(&out, op::kText, "Hel", 3, false);
  AppendWsFrame(&out, op::kContinuation, "lo", 2);
  EXPECT_EQ(out, Bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));
  out.clear();
  AppendWsFrame(&out, op::kPing, "Hello", 5);
  EXPECT_EQ(out, Bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  std::string b256(256, 'x');
  out.clear();
  AppendWsFrame(&out, op::kBinary, b256.data(), b256.size());
  EXPECT_EQ(out.substr(0, 4), Bytes({0x82, 0x7e, 0x01, 0x00}));
  EXPECT_EQ(out.size(), 4 + 256u);
  std::string b64k(65536, 'y');
  out.clear();
  AppendWsFrame(&out, op::kBinary, b64k.data(), b64k.size());
  EXPECT_EQ(out.substr(0, 10), Bytes({0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(out.size(), 10 + 65536u);
  out.clear();
  AppendWsFrame(&out, op::kBinary, b64k.data(), 65535);
  EXPECT_EQ(out.substr(0, 4), Bytes({0x82, 0x7e, 0xff, 0xff}));
  out = "kept";
  AppendWsFrame(&out, op::kBinary, "", 0);
  EXPECT_EQ(out, "kept" + Bytes({0x82, 0x00}));
}

TEST(WsFrameWriter, CloseFrames) {
  std::string out;
  AppendWsClose(&out, 1000, "bye");
  EXPECT_EQ(out, Bytes({0x88, 0x05, 0x03, 0xe8}) + "bye");
  out.clear();
  AppendWsClose(&out, 1005, "ignored");
  EXPECT_EQ(out, Bytes({0x88, 0x00}));
  out.clear();
  AppendWsClose(&out, 4321, "");
  EXPECT_EQ(out, Bytes({0x88, 0x02, 0x10, 0xe1}));
  out.clear();
  AppendWsClose(&out, 1011, std::string(200, 'r'));
  EXPECT_EQ(out, Bytes({0x88, 0x7d, 0x03, 0xf3}) + std::string(123, 'r'));
  // A 2-byte character straddling byte 123 is dropped whole; one that ends at 123 is kept.
  out.clear();
  AppendWsClose(&out, 1000, std::string(122, 'a') + "\xc3\xa9" + "tail");
  EXPECT_EQ(out, Bytes({0x88, 0x7c, 0x03, 0xe8}) + std::string(122, 'a'));
  out.clear();
  AppendWsClose(&out, 1000, std::string(121, 'a') + "\xc3\xa9" + "tail");
  EXPECT_EQ(out, Bytes({0x88, 0x7d, 0x03, 0xe8}) + std::string(121, 'a') + "\xc3\xa9");
  out.clear();
  AppendWsClose(&out, 1000, std::string(120, 'a') + "\xf0\x9f\x98\x80");
  EXPECT_EQ(out, Bytes({0x88, 0x7a, 0x03, 0xe8}) + std::string(120, 'a'));
}

TEST(WsFrameWriter, MessagesPlainAndCompressed) {
  std::string out;
  EXPECT_TRUE(AppendWsMessage(&out, false, "\x01\x02", 2, nullptr));
  EXPECT_EQ(out, Bytes({0x82, 0x02, 0x01, 0x02}));
  WsDeflate deflate{DeflateParams()};
  out.clear();
  EXPECT_TRUE(AppendWsMessage(&out, true, "Hello", 5, &deflate));
  EXPECT_EQ(out, Bytes({0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));  // RFC 7692 §7.2.3.1
  out.clear();
  EXPECT_TRUE(AppendWsMessage(&out, true, "Hello", 5, &deflate));
  EXPECT_EQ(out, Bytes({0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00}));  // §7.2.3.2: the window is shared
}

// What the server writes, masked the way a client would send it, reads back through a deflate reader.
TEST(WsFrameWriter, CompressedMessagesRoundTripThroughTheReader) {
  for (bool no_takeover : {false, true}) {
    DeflateParams p;
    p.server_no_context_takeover = no_takeover;
    p.client_no_context_takeover = no_takeover;
    WsDeflate server{p};
    Conn client(1 << 20, true, p);
    Ev expected;
    for (int i = 0; i < 20; i++) {
      std::string message = "message " + std::to_string(i) + std::string(i * 10, 'x');
      std::string frame;
      ASSERT_TRUE(AppendWsMessage(&frame, i % 2 == 0, message.data(), message.size(), &server));
      // Re-encode as a client frame: same first byte, masked payload.
      size_t header = (static_cast<uint8_t>(frame[1]) & 0x7F) == 126 ? 4 : 2;
      client.Feed(ClientFrame(static_cast<uint8_t>(frame[0]), frame.substr(header), 0x11223344u * (i + 1)));
      expected.push_back((i % 2 == 0 ? "text:" : "binary:") + message);
    }
    EXPECT_EQ(client.sink.events, expected);
  }
}

}  // namespace
