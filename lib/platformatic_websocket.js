'use strict'
// handleStream()'s WebSocket mode, on lib/inprocess_websocket.js: request.write() sends a message
// (a string as text, a Buffer as binary), response.next() resolves to the app's next message as a
// Buffer (null once closed), request.end() closes with 1000.
const { openInProcessWebSocket } = require('./inprocess_websocket')
const { Response, kCreate } = require('./platformatic_response')
const { kBody, kTarget } = require('./platformatic_request')

/** The app's messages, read one by one as next() asks (the app's sends wait while none is read). */
class MessageStream {
  constructor (ws) {
    this.ws = ws
  }

  next () {
    return this.ws.receive().then((m) => {
      if (m.type === 'close') return null
      return m.type === 'text' ? Buffer.from(m.data, 'utf8') : m.data
    })
  }

  cancel () { if (!this.ws.closed) this.ws.close(1000) }
}

/** Opens the WebSocket; resolves with a Response (status 101, the accept's headers) once the app accepted. */
function openWebSocket (handler, request, signal) {
  const t = request[kTarget]
  const options = { path: t.path, headers: request.headers.toFlat() }
  if (t.scheme !== null) {
    options.scheme = t.scheme
    options.server = [t.host, t.port]
  }
  const s = request.socket
  if (s?.remoteAddress) options.client = [s.remoteAddress, s.remotePort ?? 0]
  if (s?.localAddress) options.server = [s.localAddress, s.localPort ?? 0]
  if (signal) options.signal = signal
  return openInProcessWebSocket(handler, options).then((ws) => {
    request[kBody].attachDirect({
      send: (data) => ws.send(data),
      end: () => { if (!ws.closed) ws.close(1000) }
    })
    return Response[kCreate](101, ws.rawHeaders, null, new MessageStream(ws))
  })
}

module.exports = { openWebSocket }
