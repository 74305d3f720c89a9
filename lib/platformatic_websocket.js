'use strict'
// handleStream()'s WebSocket mode (pending: built on lib/inprocess_websocket.js once it lands).

function openWebSocket () {
  return Promise.reject(new Error('node-asgi/platformatic: WebSocket mode of handleStream() is not available yet'))
}

module.exports = { openWebSocket }
