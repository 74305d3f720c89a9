'use strict'
// node-asgi/fastify: a Fastify plugin that serves a PythonHandler under the plugin's prefix
// (root_path = the handler's rootPath + prefix), raw bodies and responses streamed, WebSockets too.
const { PythonHandler } = require('./handler')
const { describe } = require('./options')
const { asksForWebSocket, rejectHandshake } = require('./ws_cycle')
const { serveUpgradeAsHttp } = require('./http_cycle')

// Options Fastify's register() reads itself; never handed to the PythonHandler.
const FASTIFY_OPTIONS = new Set(['prefix', 'logLevel', 'logSerializers'])

// server → { mounts: [{ prefix, upgrade }], listener }: one 'upgrade' listener per server, shared
// by every registration of this plugin on it (longest prefix first).
const servers = new WeakMap()

/**
 * The plugin: `fastify.register(nodeAsgi, { prefix: '/api', app: 'main:app', appDir })` or
 * `{ prefix, handler }`. Encapsulated (its body parsing and routes stay inside its prefix).
 */
async function nodeAsgi (fastify, options) {
  const { handler, owned } = handlerFrom(options)
  const prefix = mountPrefix(fastify.prefix)
  const listener = handler.listener()

  // No body parsing for the mounted routes: the request stream goes to the app untouched.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', passBodyThrough)
  const serve = (request, reply) => {
    reply.hijack() // node-asgi writes reply.raw itself
    const req = request.raw
    mount(req, prefix)
    listener(req, reply.raw)
  }
  fastify.all('/', serve)
  fastify.all('/*', serve)

  const entry = addMount(fastify.server, prefix, handler.upgradeListener())
  if (owned) {
    // Before the server closes: WebSockets get 1012 and in-flight requests finish, so that the
    // server's close() is not held open by them; then lifespan shutdown runs.
    fastify.addHook('preClose', () => handler.close())
  }
  fastify.addHook('onClose', async () => {
    removeMount(fastify.server, entry)
    if (owned) await handler.close()
  })
  await handler.start()
}

// Encapsulated on purpose (no Symbol.for('skip-override'), which fastify-plugin would set): the
// register() prefix, the pass-through body parser and the routes stay inside this registration.
nodeAsgi[Symbol.for('fastify.display-name')] = 'node-asgi'
nodeAsgi[Symbol.for('plugin-meta')] = { name: 'node-asgi', fastify: '5.x' }

function passBodyThrough (request, payload, done) { done(null) }

/** `{ handler }` (the caller's, left open) or PythonHandler options (a handler the plugin owns). */
function handlerFrom (options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`node-asgi/fastify: options must be an object ({ handler } or PythonHandler options), got ${describe(options)}`)
  }
  const rest = {}
  for (const [name, value] of Object.entries(options)) {
    if (!FASTIFY_OPTIONS.has(name) && name !== 'handler') rest[name] = value
  }
  if (options.handler !== undefined) {
    if (!(options.handler instanceof PythonHandler)) {
      throw new TypeError(`node-asgi/fastify: option 'handler' must be a PythonHandler, got ${describe(options.handler)}`)
    }
    const extra = Object.keys(rest)
    if (extra.length > 0) {
      throw new TypeError(`node-asgi/fastify: option '${extra[0]}' cannot be combined with 'handler' (set it on the PythonHandler)`)
    }
    return { handler: options.handler, owned: false }
  }
  if (rest.app === undefined) {
    throw new TypeError("node-asgi/fastify: option 'handler' (a PythonHandler) or 'app' (\"module:attribute\") is required")
  }
  return { handler: new PythonHandler(rest), owned: true }
}

/** Fastify's prefix for this registration without its trailing slash; '' at the root. */
function mountPrefix (prefix) {
  const p = (prefix || '').replace(/\/+$/, '')
  if (/[:*?#]/.test(p)) {
    throw new TypeError(`node-asgi/fastify: option 'prefix' must be a plain path (no parameters or wildcards), got ${JSON.stringify(prefix)}`)
  }
  return p
}

/** The request target relative to `prefix`, or null when it is not under it. */
function relativeTarget (url, prefix) {
  if (prefix === '') return url
  if (!url.startsWith(prefix)) return null
  const rest = url.slice(prefix.length)
  if (rest === '') return '/'
  if (rest[0] === '/') return rest
  if (rest[0] === '?') return '/' + rest
  return null
}

/**
 * As Express does for a mount: `req.url` relative to the mount, `req.baseUrl` = the mount path,
 * which the handler appends to its rootPath. Fastify routed the request here, so a URL that does
 * not start with the prefix as written (a case-insensitive router) is cut by the prefix's length.
 */
function mount (req, prefix) {
  if (prefix === '') return
  let target = relativeTarget(req.url, prefix)
  if (target === null) {
    const rest = req.url.slice(prefix.length)
    target = rest === '' ? '/' : rest[0] === '/' ? rest : '/' + rest
  }
  req.originalUrl ??= req.url
  req.baseUrl = prefix
  req.url = target
}

function addMount (server, prefix, upgrade) {
  let shared = servers.get(server)
  if (shared === undefined) {
    shared = { mounts: [], listener: null }
    shared.listener = (req, socket, head) => onUpgrade(server, shared.mounts, req, socket, head)
    servers.set(server, shared)
    server.on('upgrade', shared.listener)
  }
  const entry = { prefix, upgrade }
  shared.mounts.push(entry)
  shared.mounts.sort((a, b) => b.prefix.length - a.prefix.length)
  return entry
}

function removeMount (server, entry) {
  const shared = servers.get(server)
  if (shared === undefined) return
  shared.mounts = shared.mounts.filter((m) => m !== entry)
  if (shared.mounts.length === 0) {
    server.removeListener('upgrade', shared.listener)
    servers.delete(server)
  }
}

// node:http hands every request with an Upgrade header to 'upgrade' listeners once there is one.
function onUpgrade (server, mounts, req, socket, head) {
  const alone = server.listenerCount('upgrade') === 1 // no other plugin serves upgrades here
  if (!asksForWebSocket(req)) {
    // Upgrade: h2c and the like are plain HTTP requests (uvicorn): Fastify routes them.
    if (alone) serveUpgradeAsHttp(req, socket, head, (q, r) => server.emit('request', q, r))
    return
  }
  for (const m of mounts) {
    if (relativeTarget(req.url, m.prefix) !== null) {
      mount(req, m.prefix)
      m.upgrade(req, socket, head)
      return
    }
  }
  if (alone) rejectHandshake(socket, 404, ['content-type', 'text/plain; charset=utf-8'], Buffer.from('Not Found'))
}

module.exports = nodeAsgi
module.exports.default = nodeAsgi
module.exports.nodeAsgi = nodeAsgi
