// HTTP/1.1 response serialisation (see response_head.h).
#include "response_head.h"

#include "header_text.h"


#include <cstdio>

namespace node_asgi::server {

namespace {

void AppendHeader(std::string* out, const char* name, const std::string& value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

bool ParseLength(const std::string& value, uint64_t* length) {
  if (value.empty() || value.size() > 19) return false;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *length = n;
  return true;
}

}  // namespace

const std::string& DateCache::Get(time_t now) {
  if (now != when_ || text_.empty()) {
    when_ = now;
    // IMF-fixdate by hand: strftime's %a and %b follow LC_TIME, which an app may change
    static const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&now, &tm);
    char buffer[64];
    int n = snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    text_.assign(buffer, static_cast<size_t>(n));
  }
  return text_;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a Teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 509: return "Bandwidth Limit Exceeded";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "";
  }
}

static void AppendStatusLine(std::string* out, int status) {
  char line[64];
  int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, ReasonPhrase(status));
  out->append(line, static_cast<size_t>(n));
}

ResponsePlan AppendResponseHead(std::string* out, int status, const Headers& headers, const RequestFacts& request,
                                const std::string& date, const std::string& server_header,
                                const Headers* defaults) {
  ResponsePlan plan;
  plan.keep_alive = request.keep_alive;
  bool no_body = request.head_method || status == 204 || status == 304 || (status >= 100 && status < 200);
  bool has_length = false, has_date = false, has_server = false, app_chunked = false, has_connection = false;
  uint64_t length = 0;
  for (const auto& [name, value] : headers) {
    switch (name.size()) {
      case 4: has_date = has_date || EqualsNoCase(name, "date"); break;
      case 6: has_server = has_server || EqualsNoCase(name, "server"); break;
      case 10:
        if (EqualsNoCase(name, "connection")) {
          has_connection = true;
          if (HasToken(value, "close")) plan.keep_alive = false;
        }
        break;
      case 14:
        if (!has_length && EqualsNoCase(name, "content-length") && ParseLength(value, &length)) has_length = true;
        break;
      case 17:
        if (EqualsNoCase(name, "transfer-encoding")) app_chunked = true;
        break;
    }
  }
  if (no_body) {
    plan.framing = Framing::kNoBody;
  } else if (app_chunked) {
    plan.framing = Framing::kChunked;
  } else if (has_length) {
    plan.framing = Framing::kLength;
    plan.length = length;
  } else if (request.http10) {
    plan.framing = Framing::kUntilClose;
    plan.keep_alive = false;
  } else {
    plan.framing = Framing::kChunked;
  }

  size_t size = 64 + date.size() + server_header.size();
  for (const auto& [name, value] : headers) size += name.size() + value.size() + 4;
  out->reserve(out->size() + size);
  AppendStatusLine(out, status);
  if (!has_date && !date.empty()) AppendHeader(out, "date", date);
  if (!has_server && !server_header.empty()) AppendHeader(out, "server", server_header);
  if (defaults != nullptr) {
    for (const auto& [name, value] : *defaults) {
      bool app_has = false;
      for (const auto& header : headers) app_has = app_has || EqualsNoCase(header.first, name);
      if (!app_has) AppendHeader(out, name.c_str(), value);
    }
  }
  for (const auto& [name, value] : headers) {
    uint64_t ignored;
    if (EqualsNoCase(name, "content-length") && !ParseLength(value, &ignored)) continue;
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  if (plan.framing == Framing::kChunked && !app_chunked) out->append("transfer-encoding: chunked\r\n");
  if (has_connection) {
    // the app's own Connection header stands
  } else if (!plan.keep_alive) {
    out->append("connection: close\r\n");
  } else if (request.http10) {
    out->append("connection: keep-alive\r\n");
  }
  out->append("\r\n");
  return plan;
}

void AppendChunk(std::string* out, const char* data, size_t size) {
  if (size == 0) return;
  char line[24];
  int n = snprintf(line, sizeof line, "%zx\r\n", size);
  out->append(line, static_cast<size_t>(n));
  out->append(data, size);
  out->append("\r\n");
}

std::string PlainResponse(int status, const std::string& date, const std::string& server_header,
                          const std::string& body_text) {
  std::string body = body_text.empty() ? std::string(ReasonPhrase(status)) : body_text;
  std::string out;
  AppendStatusLine(&out, status);
  if (!date.empty()) AppendHeader(&out, "date", date);
  if (!server_header.empty()) AppendHeader(&out, "server", server_header);
  AppendHeader(&out, "content-type", "text/plain; charset=utf-8");
  AppendHeader(&out, "content-length", std::to_string(body.size()));
  AppendHeader(&out, "connection", "close");
  out.append("\r\n");
  out.append(body);
  return out;
}

}  // namespace node_asgi::server
