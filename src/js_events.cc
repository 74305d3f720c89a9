// ToJs messages → JS values (see js_events.h).
#include "js_events.h"

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
  napi_value Boolean(bool b) {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_get_boolean(env_, b, &v) == napi_ok;
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
  napi_value Array(size_t length) {
    napi_value v = nullptr;
    if (ok_) ok_ = napi_create_array_with_length(env_, length, &v) == napi_ok;
    return v;
  }
  void Set(napi_value array, uint32_t index, napi_value value) {
    if (ok_) ok_ = napi_set_element(env_, array, index, value) == napi_ok;
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

  // [name, value, name, value, ...] as latin-1 strings.
  napi_value Headers(const node_asgi::Headers& headers) {
    napi_value flat = Array(headers.size() * 2);
    uint32_t i = 0;
    for (const auto& [name, value] : headers) {
      Set(flat, i++, Latin1(name));
      Set(flat, i++, Latin1(value));
    }
    return flat;
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

}  // namespace

napi_value EventsArray(napi_env env, std::vector<ToJs>& messages, bool* loop_exited) {
  Builder js(env);
  napi_value events = js.Array(messages.size() * 4);
  uint32_t i = 0;
  for (ToJs& m : messages) {
    napi_value a = nullptr, b = nullptr;
    switch (m.kind) {
      case ToJs::Kind::kResponseStart:
        a = js.Number(m.status);
        b = js.Headers(m.headers);
        break;
      case ToJs::Kind::kResponseBody:
        a = js.HttpBody(std::move(m.bytes));
        b = js.Number(Flags(m.flag, m.flag2));
        break;
      case ToJs::Kind::kWsSend:
        a = js.Body(std::move(m.bytes));
        b = js.Number(Flags(m.flag, m.flag2));
        break;
      case ToJs::Kind::kRequestDone:
        a = js.Boolean(m.flag);
        break;
      case ToJs::Kind::kLog:
      case ToJs::Kind::kWsClose:
        a = js.Number(m.number);
        b = js.Utf8(m.bytes);
        break;
      case ToJs::Kind::kWsAccept:
        a = m.flag ? js.Utf8(m.bytes) : js.Null();
        b = js.Headers(m.headers);
        break;
      case ToJs::Kind::kLoopExited:
        *loop_exited = true;
        a = js.Error(m.error.get());
        break;
      case ToJs::Kind::kStartFailed:
      case ToJs::Kind::kAppError:
        a = js.Error(m.error.get());
        break;
      default:
        break;
    }
    js.Set(events, i++, js.Number(static_cast<int>(m.kind)));
    js.Set(events, i++, js.Number(static_cast<double>(m.id)));
    js.Set(events, i++, a ? a : js.Undefined());
    js.Set(events, i++, b ? b : js.Undefined());
  }
  return js.ok() ? events : nullptr;
}

}  // namespace node_asgi
