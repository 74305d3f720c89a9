'use strict'
// Loads the compiled addon and what the build recorded about the embedded Python.
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')

function load () {
  const addonPath = path.join(root, 'build/Release/node_asgi.node')
  const infoPath = path.join(root, 'build/python.json')
  if (!fs.existsSync(addonPath) || !fs.existsSync(infoPath)) {
    throw new Error(`node-asgi: the native addon is not built (${addonPath} missing); run \`npm run build\` in ${root}`)
  }
  return {
    addon: require(addonPath),
    python: JSON.parse(fs.readFileSync(infoPath, 'utf8')),
    runtimePath: path.join(root, 'src/python/node_asgi_runtime/__init__.py')
  }
}

let loaded = null
/** The addon, loaded on first use (so that requiring node-asgi never fails before it is used). */
function native () {
  if (loaded === null) loaded = load()
  return loaded
}

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

module.exports = { native, Events, MORE_BODY, TEXT, WANTS_DRAIN, bodyBuffer }
