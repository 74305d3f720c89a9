'use strict'
// Options shared by the in-process entry points (handler.fetch(), openInProcessWebSocket()): the
// scope's client/server addresses, a per-call root path and an AbortSignal; errors name the option.
const { describe } = require('./options')

/** [host, port] or null, for the scope's `client`/`server`; `name` is the option named in errors. */
function address (name, value) {
  if (value === null || value === undefined) return null
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || !Number.isInteger(value[1]) || value[1] < 0 || value[1] > 65535) {
    throw new TypeError(`node-asgi: option '${name}' must be a [host: string, port: integer 0-65535] pair or null, got ${describe(value)}`)
  }
  return value
}

/** A root path for one call ('' or '/prefix', trailing slashes dropped), else `fallback`. */
function rootPathOption (value, fallback) {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || (value !== '' && !value.startsWith('/'))) {
    throw new TypeError(`node-asgi: option 'rootPath' must be '' or a path starting with '/', got ${describe(value)}`)
  }
  return value.replace(/\/+$/, '')
}

function signalOption (value) {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || typeof value.aborted !== 'boolean' || typeof value.addEventListener !== 'function') {
    throw new TypeError(`node-asgi: option 'signal' must be an AbortSignal, got ${describe(value)}`)
  }
  return value
}

/** Throws a TypeError for a key of `options` not in `known`, naming `what` ("fetch() option"). */
function checkKeys (options, known, what) {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`node-asgi: unknown ${what} '${key}' (expected one of ${known.join(', ')})`)
  }
}

module.exports = { address, rootPathOption, signalOption, checkKeys }
