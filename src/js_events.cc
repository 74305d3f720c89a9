// ToJs messages → the handler's JS callback (see js_events.h).
#include "js_events.h"

#include <algorithm>
#include <string>

namespace node_asgi {

namespace {

// Builds values until the first failed call; later calls are skipped and return nullptr.
class Builder {
 public:
  static constexpr size_t kSmallBody = 4096;

  explicit Builder(napi_env env) : env_(env) {}
  bool ok() const { return ok_; }

  napi_value Number(double n) {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_create_double(env_, n, &v) == napi_ok;
    return v;
  }
  napi_value Null() {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_get_null(env_, &v) == napi_ok;
    return v;
  }
  napi_value Undefined() {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_get_undefined(env_, &v) == napi_ok;
    return v;
  }
  napi_value Utf8(const std::string& s) {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_create_string_utf8(env_, s.data(), s.size(), &v) == napi_ok;
    return v;
  }
  napi_value Latin1(const std::string& s) {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_create_string_latin1(env_, s.data(), s.size(), &v) == napi_ok;
    return v;
  }
  void Set(napi_value object, const char* key, napi_value value) {
    if (ok_) ok_ = napi_set_named_property(env_, object, key, value) == napi_ok;
  }

  // An HTTP response body chunk: below kSmallBody bytes, a latin-1 string (one byte per char, so
  // byte-exact): V8 makes a small string far more cheaply than a Buffer, and node:http writes a
  // string body together with the response head in one chunk. Larger chunks are Buffers.
  napi_value HttpBody(std::string&& bytes) {
    if (bytes.size() < kSmallBody) return Latin1(bytes);
    return Body(std::move(bytes));
  }

  // Small bodies are copied; larger ones are handed over without a copy.
  napi_value Body(std::string&& bytes) {
    napi_value v = nullptr;
    if (!ok_) return v;
    if (bytes.size() < kSmallBody) {
      void* data = nullptr;
      ok_ = napi_create_buffer_copy(env_, bytes.size(), bytes.data(), &data, &v) == napi_ok;
      return v;
    }
    auto* owned = new std::string(std::move(bytes));
    ok_ = napi_create_external_buffer(
              env_, owned->size(), owned->data(),
              [](napi_env, void*, void* hint) { delete static_cast<std::string*>(hint); }, owned, &v) == napi_ok;
    if (!ok_) delete owned;
    return v;
  }

  // Header names and values as one latin-1 string, NUL-separated: "name\0value\0name\0value"
  // (validated headers hold no NUL). JS splits it; one string instead of an array of 2n.
  napi_value Headers(const node_asgi::Headers& headers) {
    std::string joined;
    size_t size = 0;
    for (const auto& [name, value] : headers) size += name.size() + value.size() + 2;
    joined.reserve(size);
    for (const auto& [name, value] : headers) {
      if (!joined.empty()) joined.push_back('\0');
      joined.append(name);
      joined.push_back('\0');
      joined.append(value);
    }
    return Latin1(joined);
  }

  // { type, message, traceback } or null.
  napi_value Error(const PythonErrorInfo* error) {
    if (error == nullptr) return Null();
    napi_value o = nullptr;
    if (ok_) ok_ = napi_create_object(env_, &o) == napi_ok;
    Set(o, "type", Utf8(error->type));
    Set(o, "message", Utf8(error->message));
    Set(o, "traceback", Utf8(error->traceback));
    return o;
  }

 private:
  napi_env env_;
  bool ok_ = true;
};

int Flags(bool first, bool second) { return (first ? 1 : 0) | (second ? 2 : 0); }

// One event: its number `n` into *n, its payloads appended to `values`.
void Encode(Builder& js, ToJs& m, double* n, std::vector<napi_value>& values) {
  switch (m.kind) {
    case ToJs::Kind::kResponseStart:
      *n = m.status;
      values.push_back(js.Headers(m.headers));
      break;
    case ToJs::Kind::kResponseBody:
      *n = Flags(m.flag, m.flag2);
      values.push_back(js.HttpBody(std::move(m.bytes)));
      break;
    case ToJs::Kind::kWsSend:
      *n = Flags(m.flag, m.flag2);
      values.push_back(js.Body(std::move(m.bytes)));
      break;
    case ToJs::Kind::kRequestDone:
      *n = m.flag ? 1 : 0;
      break;
    case ToJs::Kind::kLog:
    case ToJs::Kind::kWsClose:
      *n = m.number;
      values.push_back(js.Utf8(m.bytes));
      break;
    case ToJs::Kind::kWsAccept:
      values.push_back(m.flag ? js.Utf8(m.bytes) : js.Null());
      values.push_back(js.Headers(m.headers));
      break;
    case ToJs::Kind::kLoopExited:  // error null: the loop ended normally
    case ToJs::Kind::kStartFailed:
    case ToJs::Kind::kAppError:
      values.push_back(js.Error(m.error.get()));
      break;
    case ToJs::Kind::kStarted:
    case ToJs::Kind::kResumeBody:
    case ToJs::Kind::kClosed:
      break;
  }
}

}  // namespace

bool DeliverEvents(napi_env env, napi_value callback, double* meta, std::vector<ToJs>& messages) {
  std::vector<napi_value> args;
  args.reserve(1 + 2 * std::min(messages.size(), kMaxEvents));
  for (size_t first = 0; first < messages.size(); first += kMaxEvents) {
    // One handle scope per call: a long batch does not keep every earlier payload's handle.
    napi_handle_scope scope = nullptr;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
    Builder js(env);
    size_t count = std::min(messages.size() - first, kMaxEvents);
    args.clear();
    args.push_back(js.Number(static_cast<double>(count)));
    for (size_t i = 0; i < count; ++i) {
      ToJs& m = messages[first + i];
      meta[3 * i] = static_cast<int>(m.kind);
      meta[3 * i + 1] = static_cast<double>(m.id);
      meta[3 * i + 2] = 0;
      Encode(js, m, &meta[3 * i + 2], args);
    }
    napi_value recv = js.Undefined();
    bool ok = js.ok() && napi_call_function(env, recv, callback, args.size(), args.data(), nullptr) == napi_ok;
    napi_close_handle_scope(env, scope);
    if (!ok) return false;
  }
  return true;
}

}  // namespace node_asgi
