'use strict'
// The worker thread behind handleRequestSync() (lib/platformatic_sync.js): its own Python
// instance of the app; answers each request on the port, then wakes the blocked caller.
const { workerData } = require('node:worker_threads')
const { Python, Request } = require('./platformatic')
const { ANSWERED } = require('./platformatic_sync')

const { docroot, appTarget, flag, port } = workerData
const python = new Python({ docroot, appTarget })

let inFlight = null // the id of the request being answered

function answer (message) {
  message.id = inFlight
  inFlight = null
  port.postMessage(message)
  Atomics.store(flag, 0, ANSWERED)
  Atomics.notify(flag, 0)
}

function errorMessage (err) {
  const e = err instanceof Error ? err : new Error(String(err))
  return { error: { name: e.name, message: e.message, code: e.code, type: e.type, pythonMessage: e.pythonMessage, traceback: e.traceback, log: e.log } }
}

// Nothing may leave the caller blocked: a failure anywhere answers the request in flight (the
// caller skips answers whose id is not the one it waits for).
process.on('uncaughtException', (err) => answer(errorMessage(err)))
process.on('unhandledRejection', (err) => answer(errorMessage(err)))

port.on('message', async (message) => {
  if (message.close) {
    port.close()
    await python.close()
    return
  }
  inFlight = message.id
  try {
    const { method, url, headers, body, socket } = message.request
    const request = new Request({ method, url, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength), socket: socket ?? undefined })
    for (let i = 0; i < headers.length; i += 2) request.headers.add(headers[i], headers[i + 1])
    const res = await python.handleRequest(request)
    answer({ status: res.status, headers: res.headers.toFlat(), body: res.body, log: res.log.toString(), exception: res.exception })
  } catch (err) {
    answer(errorMessage(err))
  }
})
