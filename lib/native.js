'use strict'
// Loads the compiled addon and what the build recorded about the embedded Python.
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')

// The command that builds (or rebuilds) the addon from the project that installed node-asgi.
const REBUILD = 'npm rebuild node-asgi'

/** Loads the addon built into `buildDir` (the package's build/ unless a test points elsewhere). */
function loadAddon (buildDir = path.join(root, 'build')) {
  const addonPath = path.join(buildDir, 'Release/node_asgi.node')
  const infoPath = path.join(buildDir, 'python.json')
  for (const file of [addonPath, infoPath]) {
    if (!fs.existsSync(file)) {
      throw new Error(`node-asgi: the native addon is not built (${file} is missing). Build it from your project with: ${REBUILD}`)
    }
  }
  let addon
  try {
    addon = require(addonPath)
  } catch (err) {
    throw new Error(`node-asgi: cannot load the native addon ${addonPath} (${err.message}). Rebuild it from your project with: ${REBUILD}`, { cause: err })
  }
  return {
    addon,
    python: JSON.parse(fs.readFileSync(infoPath, 'utf8')),
    runtimePath: path.join(root, 'src/python/node_asgi_runtime/__init__.py')
  }
}

let loaded = null
/** The addon, loaded on first use (so that requiring node-asgi never fails before it is used). */
function native () {
  if (loaded === null) loaded = loadAddon()
  return loaded
}

// The addon calls onEvents(count, ...payloads) with a batch of events (src/js_events.h): event i's
// kind, id and number n are meta[3i], meta[3i + 1] and meta[3i + 2] in the Float64Array the
// handler gave it (3 × addon.eventBatch); its payloads, in event order, are the call's arguments:
//   kind            n                                  payloads
//   STARTED, CLOSED, RESUME_BODY                       none
//   START_FAILED, APP_ERROR, LOOP_EXITED               {type, message, traceback} (null: LOOP_EXITED ok)
//   RESPONSE_START  status                             headers (joined, see splitHeaders)
//   RESPONSE_BODY   MORE_BODY | WANTS_DRAIN            chunk (see bodyBuffer)
//   REQUEST_DONE    1 = abort the connection           none
//   LOG             level (10 debug .. 50 critical)    message
//   WS_ACCEPT       -                                  subprotocol or null, headers (joined)
//   WS_SEND         TEXT | WANTS_DRAIN                 Buffer
//   WS_CLOSE        close code                         reason
// Event kinds as the addon numbers them (src/core/messages.h, ToJs::Kind).
const Events = Object.freeze({
  STARTED: 0,
  START_FAILED: 1,
  RESPONSE_START: 2,
  RESPONSE_BODY: 3,
  RESUME_BODY: 4,
  REQUEST_DONE: 5,
  APP_ERROR: 6,
  LOG: 7,
  CLOSED: 8,
  LOOP_EXITED: 9,
  WS_ACCEPT: 10,
  WS_SEND: 11,
  WS_CLOSE: 12
})

// ResponseBody flags (MORE_BODY) and WsSend flags (TEXT); both may carry WANTS_DRAIN.
const MORE_BODY = 1
const TEXT = 1
const WANTS_DRAIN = 2

/**
 * A RESPONSE_BODY chunk as a Buffer. The addon delivers chunks under 4 KiB as latin-1 strings
 * (one char per byte, so byte-exact; cheaper to make than Buffers), larger ones as Buffers.
 */
function bodyBuffer (chunk) {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk
}

/** Headers as the addon joins them ("name\0value\0name\0value") → [name, value, ...]. */
function splitHeaders (joined) {
  return joined === '' ? [] : joined.split('\0')
}

/**
 * An in-process HTTP cycle's AbortSignal (or null): `cycle.abort(signal.reason)` when it aborts, the
 * listener kept as `cycle.onAbort` for the cycle's unwatchSignal(). True when the signal had already
 * aborted (while the handler was starting): abort() has run and the cycle's begin() stops there.
 */
function watchAbort (cycle, signal) {
  if (signal === null) return false
  cycle.onAbort = () => cycle.abort(signal.reason)
  if (signal.aborted) {
    cycle.onAbort()
    return true
  }
  signal.addEventListener('abort', cycle.onAbort, { once: true })
  return false
}

module.exports = { native, loadAddon, Events, MORE_BODY, TEXT, WANTS_DRAIN, bodyBuffer, splitHeaders, watchAbort }
