'use strict'
// Validates and normalises PythonHandler options; every error names the option at fault.
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { LEVELS } = require('./logger')

const DEFAULTS = Object.freeze({
  app: undefined,
  appDir: undefined, // process.cwd()
  lifespan: 'auto',
  virtualenv: undefined, // $VIRTUAL_ENV
  rootPath: '',
  factory: false,
  loop: 'asyncio',
  pathIncludesRootPath: true,
  timeoutGracefulShutdown: 30,
  logLevel: 'warning',
  logger: undefined, // console
  responseHighWater: 64 * 1024,
  requestHighWater: 64 * 1024,
  wsMaxSize: 16 * 1024 * 1024,
  wsMaxQueue: 32,
  wsPingInterval: 20,
  wsPingTimeout: 20,
  wsPerMessageDeflate: true,
  limitConcurrency: null,
  maxRequestBodySize: null,
  maxHeaderCount: 100,
  proxyHeaders: false,
  forwardedAllowIps: undefined, // $FORWARDED_ALLOW_IPS, else '127.0.0.1'
  logConfig: null
})

// An HTTP token (RFC 9110: method, header name, WebSocket subprotocol), and what a header value
// must not contain.
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const UNSAFE_HEADER_VALUE = /[\0\r\n]/

function describe (value) {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`
}

function fail (name, expected, value) {
  return new TypeError(`node-asgi: option '${name}' must be ${expected}, got ${describe(value)}`)
}

// Edit distance between two short strings (insertions, deletions, substitutions).
function distance (a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}

// The option a misspelt name most likely meant: same letters ignoring case and - or _, else
// within two edits.
function closest (name, candidates) {
  const normal = (s) => s.toLowerCase().replace(/[-_]/g, '')
  const exact = candidates.find((c) => normal(c) === normal(name))
  if (exact) return exact
  let best = null
  let bestDistance = 3
  for (const c of candidates) {
    const d = distance(normal(name), normal(c))
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}

function oneOf (name, value, allowed) {
  if (!allowed.includes(value)) throw fail(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value)
  return value
}

function boolean (name, value) {
  if (typeof value !== 'boolean') throw fail(name, 'a boolean', value)
  return value
}

function positiveInteger (name, value) {
  if (!Number.isSafeInteger(value) || value <= 0) throw fail(name, 'a positive integer', value)
  return value
}

function directory (name, value) {
  if (typeof value !== 'string' || value === '') throw fail(name, 'a directory path', value)
  const resolved = path.resolve(value)
  let stat
  try {
    stat = fs.statSync(resolved)
  } catch {
    throw new Error(`node-asgi: option '${name}' names ${resolved}, which does not exist`)
  }
  if (!stat.isDirectory()) throw new Error(`node-asgi: option '${name}' names ${resolved}, which is not a directory`)
  return resolved
}

// '*', addresses, CIDR networks or literal names, as a comma-separated string or an array.
function forwardedAllowIps (value) {
  const list = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(list) || !list.every((h) => typeof h === 'string')) {
    throw fail('forwardedAllowIps', "a comma-separated string or an array of addresses/networks such as '127.0.0.1,10.0.0.0/8' or '*'", value)
  }
  const hosts = list.map((h) => h.trim()).filter((h) => h !== '')
  for (const h of hosts) {
    if (h === '*' || net.isIP(h)) continue
    const [address, bits, extra] = h.split('/')
    const max = net.isIP(address) === 6 ? 128 : 32
    if (extra === undefined && net.isIP(address) && /^\d+$/.test(bits ?? '') && Number(bits) <= max) continue
    throw fail('forwardedAllowIps', "'*' or IP addresses/CIDR networks", h)
  }
  return hosts
}

// A logging config for Python: a dict (dictConfig), or a .json/.yaml/.ini file path.
function logConfig (value) {
  if (value === null) return null
  if (typeof value === 'object' && !Array.isArray(value)) return value
  if (typeof value !== 'string' || value === '') throw fail('logConfig', 'a file path (.json, .yaml, .ini) or a dictConfig object', value)
  const resolved = path.resolve(value)
  try {
    fs.accessSync(resolved, fs.constants.R_OK)
  } catch {
    throw new Error(`node-asgi: option 'logConfig' names ${resolved}, which cannot be read`)
  }
  return resolved
}

/** Returns a frozen, complete copy of `options`, or throws a TypeError/Error naming the option. */
function normalizeOptions (options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`node-asgi: PythonHandler expects an options object such as { app: 'main:app' }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!(key in DEFAULTS)) {
      const guess = closest(key, Object.keys(DEFAULTS))
      throw new TypeError(`node-asgi: unknown option '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}`)
    }
  }
  const o = { ...DEFAULTS }
  for (const [key, value] of Object.entries(options)) if (value !== undefined) o[key] = value

  if (typeof o.app !== 'string' || !/^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$/.test(o.app)) {
    throw fail('app', "a 'module:attribute' import string such as 'main:app'", o.app)
  }
  o.appDir = directory('appDir', o.appDir === undefined ? process.cwd() : o.appDir)
  o.lifespan = oneOf('lifespan', o.lifespan, ['auto', 'on', 'off'])
  o.loop = oneOf('loop', o.loop, ['asyncio', 'uvloop', 'auto'])
  o.factory = boolean('factory', o.factory)
  o.pathIncludesRootPath = boolean('pathIncludesRootPath', o.pathIncludesRootPath)

  if (o.virtualenv === undefined) o.virtualenv = process.env.VIRTUAL_ENV || null
  if (o.virtualenv !== null) {
    o.virtualenv = directory('virtualenv', o.virtualenv)
    if (!fs.existsSync(path.join(o.virtualenv, 'pyvenv.cfg'))) {
      throw new Error(`node-asgi: option 'virtualenv' names ${o.virtualenv}, which is not a virtualenv (no pyvenv.cfg)`)
    }
  }

  if (typeof o.rootPath !== 'string' || (o.rootPath !== '' && !o.rootPath.startsWith('/'))) {
    throw fail('rootPath', "'' or a path starting with '/'", o.rootPath)
  }
  o.rootPath = o.rootPath.replace(/\/+$/, '')

  const t = o.timeoutGracefulShutdown
  if (t !== null && (typeof t !== 'number' || !(t >= 0) || !Number.isFinite(t))) {
    throw fail('timeoutGracefulShutdown', 'a number of seconds >= 0, or null to wait for every request', t)
  }
  o.logLevel = oneOf('logLevel', o.logLevel, Object.keys(LEVELS))
  if (o.logger === undefined) o.logger = console
  for (const method of ['error', 'warn', 'info']) {
    if (!o.logger || typeof o.logger[method] !== 'function') throw fail('logger', 'an object with error(), warn() and info() methods (like console)', o.logger)
  }
  o.responseHighWater = positiveInteger('responseHighWater', o.responseHighWater)
  o.requestHighWater = positiveInteger('requestHighWater', o.requestHighWater)
  o.wsMaxSize = positiveInteger('wsMaxSize', o.wsMaxSize)
  o.wsMaxQueue = positiveInteger('wsMaxQueue', o.wsMaxQueue)
  for (const name of ['wsPingInterval', 'wsPingTimeout']) {
    const v = o[name]
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw fail(name, 'a number of seconds >= 0 (0 disables)', v)
  }
  o.wsPerMessageDeflate = boolean('wsPerMessageDeflate', o.wsPerMessageDeflate)
  if (o.limitConcurrency !== null) o.limitConcurrency = positiveInteger('limitConcurrency', o.limitConcurrency)
  if (o.maxRequestBodySize !== null) o.maxRequestBodySize = positiveInteger('maxRequestBodySize', o.maxRequestBodySize)
  o.maxHeaderCount = positiveInteger('maxHeaderCount', o.maxHeaderCount)
  o.proxyHeaders = boolean('proxyHeaders', o.proxyHeaders)
  o.forwardedAllowIps = forwardedAllowIps(o.forwardedAllowIps ?? process.env.FORWARDED_ALLOW_IPS ?? '127.0.0.1')
  o.logConfig = logConfig(o.logConfig)
  return Object.freeze(o)
}

module.exports = { normalizeOptions, describe, DEFAULTS, HTTP_TOKEN, UNSAFE_HEADER_VALUE }
