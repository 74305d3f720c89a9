'use strict'
// node-asgi/cluster: N worker processes (node:cluster) behind one listening socket, each with its
// own interpreter, loop and lifespan. The primary runs no Python: it accepts every connection
// and hands the socket to a worker (sticky: by client address, so an Engine.IO session's
// long-polling requests reach the worker that holds it; else round-robin), replaces workers that
// die (with backoff), restarts them one at a time on restart()/SIGHUP/--reload, and drains them
// all on close(). JS thread of the primary only.
const cluster = require('node:cluster')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { EventEmitter } = require('node:events')
const { parse, listenTarget, STARTUP_FAILURE } = require('./cli/args')
const { consoleSink, bindErrorLine, listeningOn } = require('./cli/logging')
const { removeStaleSocket } = require('./native_server')

const MAX_PENDING = 4096 // connections waiting for a ready worker (all restarting) before refusing
const BACKOFF_MS = [100, 200, 500, 1000, 2000, 5000, 10000]
const STABLE_MS = 10000 // a worker that lived this long resets its slot's backoff

class StartupError extends Error {}

/** FNV-1a of the client address: the same address always maps to the same slot. */
function slotOf (address, slots) {
  const text = (address ?? '').replace(/^::ffff:/, '')
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return (h >>> 0) % slots
}

// Relays a worker's output stream line by line, so that lines of different workers never mix.
function relayLines (stream, out) {
  let partial = ''
  stream.setEncoding('utf8')
  stream.on('data', (text) => {
    const end = text.lastIndexOf('\n')
    if (end === -1) {
      partial += text
      if (partial.length < 1 << 20) return
      out.write(partial + '\n')
      partial = ''
      return
    }
    out.write(partial + text.slice(0, end + 1))
    partial = text.slice(end + 1)
  })
  stream.on('end', () => { if (partial !== '') out.write(partial + '\n') })
}

/** Turns JS options (the CLI's names in camelCase, e.g. { app, workers, port }) into CLI args. */
function clusterArgs (options) {
  if (options === null || typeof options !== 'object') throw new TypeError('node-asgi/cluster: options must be an object such as { app: \'main:app\', workers: 2 }')
  if (typeof options.app !== 'string') throw new TypeError(`node-asgi/cluster: option 'app' must be a 'module:attribute' string, got ${typeof options.app}`)
  const defaults = parse([options.app])
  for (const key of Object.keys(options)) {
    if (!(key in defaults)) throw new TypeError(`node-asgi/cluster: unknown option '${key}' (known: ${Object.keys(defaults).join(', ')})`)
  }
  const args = { ...defaults, ...options }
  if (!Number.isInteger(args.workers) || args.workers < 1) throw new TypeError(`node-asgi/cluster: option 'workers' must be a positive integer, got ${args.workers}`)
  return args
}

class Supervisor extends EventEmitter {
  #args
  #log
  #listener = null
  #slots = [] // { worker, ready, crashes, bornAt, timer }
  #pending = []
  #next = 0 // round-robin cursor
  #stopping = null
  #restarting = null
  #watchers = []
  #workerEnv = null // the environment every worker gets: $NODE_ASGI_WORKER, its CLI arguments

  /** @param {object} options the CLI's options in camelCase ({ app, appDir, workers, host, port, uds, fd, sticky, http, ... }) */
  constructor (options, { logger = consoleSink() } = {}) {
    super()
    this.#args = clusterArgs(options)
    this.#log = logger
  }

  get workers () { return this.#slots.map((s) => s.worker?.process.pid ?? null) }

  /** The listening address (like net.Server#address()), or null. */
  address () { return this.#listener?.address() ?? null }

  /**
   * Listens, starts every worker and resolves once all are serving. Rejects with the bind error
   * (`code` EADDRINUSE...) or a StartupError when a worker's app fails to start (the others are
   * stopped then).
   */
  async start () {
    const a = this.#args
    this.#listener = net.createServer({ pauseOnConnect: true }, (socket) => this.#route(socket))
    const where = listenTarget(a)
    const udsMode = a.uds !== null ? removeStaleSocket(a.uds) ?? 0o666 : null // uvicorn: 0666 for a new socket
    await new Promise((resolve, reject) => {
      this.#listener.once('error', reject)
      this.#listener.listen({ ...where, backlog: a.backlog }, () => {
        this.#listener.off('error', reject)
        resolve()
      })
    })
    if (udsMode !== null) fs.chmodSync(a.uds, udsMode)
    cluster.setupPrimary({ exec: path.join(__dirname, 'cluster_worker.js'), args: [], silent: true })
    const workerArgs = { ...a, workers: 1, reload: false, uds: null, fd: null }
    this.#workerEnv = { NODE_ASGI_WORKER: JSON.stringify(workerArgs) }
    const ready = []
    for (let i = 0; i < a.workers; i++) {
      this.#slots.push({ worker: null, ready: false, crashes: 0, bornAt: 0, timer: null })
      ready.push(this.#spawn(i))
    }
    try {
      await Promise.all(ready)
    } catch (err) {
      await this.close()
      throw err
    }
    if (a.reload) this.#watch()
  }

  // Forks a worker into slot `i`; resolves once it is ready, rejects with a StartupError if it
  // exits first.
  #spawn (i) {
    const worker = cluster.fork(this.#workerEnv)
    relayLines(worker.process.stdout, process.stdout)
    relayLines(worker.process.stderr, process.stderr)
    const slot = this.#slots[i]
    // IPC failures of a worker that is exiting (a send racing its exit) are not the primary's
    // problem: its 'exit' is handled below.
    worker.on('error', (err) => this.#log.debug?.(`Worker [${worker.process.pid}]: ${err.message}`))
    return new Promise((resolve, reject) => {
      let ready = false
      worker.on('message', (message) => {
        if (message?.cmd !== 'node-asgi:ready' || ready) return
        ready = true
        this.#install(i, worker)
        this.emit('workerReady', { slot: i, pid: worker.process.pid })
        resolve(worker)
      })
      worker.on('exit', (code, signal) => {
        this.emit('workerExit', { slot: i, pid: worker.process.pid, code, signal })
        if (!ready) {
          const how = code === STARTUP_FAILURE ? 'its application failed to start' : `it exited (${signal ?? `code ${code}`})`
          reject(new StartupError(`Worker [${worker.process.pid}] did not start: ${how}`))
          return
        }
        if (slot.worker === worker) this.#lost(i, worker, code, signal)
      })
    })
  }

  #install (i, worker) {
    const slot = this.#slots[i]
    slot.worker = worker
    slot.ready = true
    slot.bornAt = Date.now()
    const pending = this.#pending
    this.#pending = []
    for (const socket of pending) this.#route(socket)
  }

  // A serving worker died on its own: replace it after a backoff, unless we are stopping.
  #lost (i, worker, code, signal) {
    const slot = this.#slots[i]
    slot.worker = null
    slot.ready = false
    if (this.#stopping) return
    if (Date.now() - slot.bornAt > STABLE_MS) slot.crashes = 0
    const delay = BACKOFF_MS[Math.min(slot.crashes, BACKOFF_MS.length - 1)]
    slot.crashes++
    this.#log.warn(`Worker [${worker.process.pid}] died (${signal ? `signal ${signal}` : `exit code ${code}`}); starting a new one in ${delay / 1000}s`)
    slot.timer = setTimeout(() => {
      slot.timer = null
      if (this.#stopping) return
      this.#spawn(i).catch((err) => this.#startupFailed(err))
    }, delay)
  }

  // A replacement's app failed to start: with --reload, wait for the next change; otherwise
  // the whole server stops (exit 3), as uvicorn does, rather than respawning forever.
  #startupFailed (err) {
    this.#log.error(err.message)
    if (this.#args.reload) {
      this.#log.info('Waiting for file changes before restarting')
      return
    }
    this.emit('fatal', err)
  }

  #route (socket) {
    if (this.#stopping) {
      socket.destroy()
      return
    }
    const slots = this.#slots
    let chosen = null
    if (this.#args.sticky) {
      const home = slotOf(socket.remoteAddress, slots.length)
      for (let k = 0; k < slots.length && chosen === null; k++) {
        const s = slots[(home + k) % slots.length] // the next one while its own restarts
        if (s.ready) chosen = s.worker
      }
    } else {
      for (let k = 0; k < slots.length && chosen === null; k++) {
        const s = slots[(this.#next + k) % slots.length]
        if (s.ready) {
          chosen = s.worker
          this.#next = (this.#next + k + 1) % slots.length
        }
      }
    }
    if (chosen === null) {
      if (this.#pending.length >= MAX_PENDING) socket.destroy()
      else this.#pending.push(socket)
      return
    }
    chosen.send({ cmd: 'node-asgi:connection' }, socket, (err) => { if (err) socket.destroy() })
  }

  /**
   * Restarts the workers one at a time: a new worker starts, takes its slot's connections, and
   * only then does the old one drain (requests in flight finish; WebSockets get 1012). Resolves
   * when every slot has a new worker; rejects (keeping the old worker of that slot and the rest)
   * if a new one fails to start.
   */
  restart () {
    if (this.#restarting) return this.#restarting
    this.#restarting = (async () => {
      for (let i = 0; i < this.#slots.length && !this.#stopping; i++) {
        const old = this.#slots[i].worker
        await this.#spawn(i)
        if (old !== null) await this.#retire(old)
      }
    })().finally(() => { this.#restarting = null })
    return this.#restarting
  }

  // Drains a worker that no longer gets connections and waits for its exit.
  #retire (worker) {
    return new Promise((resolve) => {
      if (worker.isDead()) {
        resolve()
        return
      }
      worker.once('exit', () => resolve())
      if (!worker.isConnected()) return // already on its way out (its app failed to start...)
      // with a callback, a channel that closes meanwhile is an argument here, not an 'error' event
      worker.send({ cmd: 'node-asgi:shutdown' }, (err) => { if (err && !worker.isDead()) worker.process.kill('SIGTERM') })
    })
  }

  /** Stops accepting and drains every worker (lifespan shutdown in each); resolves once all exited. */
  close () {
    if (this.#stopping) return this.#stopping
    this.#stopping = (async () => {
      for (const w of this.#watchers) w.close()
      for (const socket of this.#pending) socket.destroy()
      this.#pending = []
      // Not awaited first: net.Server#close() also waits for the sockets handed to workers.
      const closed = new Promise((resolve) => this.#listener?.listening ? this.#listener.close(() => resolve()) : resolve())
      const workers = Object.values(cluster.workers ?? {})
      for (const slot of this.#slots) if (slot.timer) clearTimeout(slot.timer)
      await Promise.all(workers.map((w) => this.#retire(w)))
      await closed
    })()
    return this.#stopping
  }

  /** Kills every worker at once (a second Ctrl-C). */
  kill () {
    for (const w of Object.values(cluster.workers ?? {})) w.process.kill('SIGKILL')
  }

  // --reload: restart the workers when a .py file changes under the watched directories.
  #watch () {
    const dirs = this.#args.reloadDirs.length > 0 ? this.#args.reloadDirs : [this.#args.appDir]
    let timer = null
    for (const dir of dirs) {
      const watcher = fs.watch(path.resolve(dir), { recursive: true }, (event, file) => {
        if (!file || !file.endsWith('.py')) return
        clearTimeout(timer)
        timer = setTimeout(() => {
          this.#log.warn(`${path.join(dir, file)} changed, reloading`)
          this.restart().catch((err) => this.#startupFailed(err))
        }, 200)
      })
      this.#watchers.push(watcher)
    }
    this.#log.info(`Will watch for changes in these directories: ${JSON.stringify(dirs.map((d) => path.resolve(d)))}`)
  }
}

/** The CLI's --workers/--reload mode: a supervisor process until SIGTERM/SIGINT (exit 0). */
async function runCli (args) {
  const log = consoleSink()
  const supervisor = new Supervisor(args, { logger: log })
  log.info(`Started parent process [${process.pid}]`)
  let stopping = false
  const stop = (signal) => {
    if (stopping) {
      if (signal === 'SIGINT') {
        supervisor.kill()
        process.exit(0)
      }
      return
    }
    stopping = true
    log.info('Shutting down workers')
    supervisor.close().then(() => {
      log.info(`Stopping parent process [${process.pid}]`)
      process.exit(0)
    })
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGHUP', () => {
    if (stopping) return
    log.info('Received SIGHUP, restarting workers one at a time')
    supervisor.restart().then(() => log.info('Workers restarted'), (err) => log.error(`Restart stopped: ${err.message}`))
  })
  supervisor.on('fatal', () => {
    stopping = true
    supervisor.close().then(() => process.exit(STARTUP_FAILURE))
  })
  try {
    await supervisor.start()
  } catch (err) {
    if (stopping) return // a signal came during startup: stop() exits 0 once the workers are gone
    if (err instanceof StartupError) {
      log.error(err.message)
      log.error('Application startup failed. Exiting.')
    } else {
      log.error(bindErrorLine(err, args))
    }
    process.exit(STARTUP_FAILURE)
  }
  log.info(`node-asgi running on ${listeningOn(supervisor.address(), args)} with ${args.workers} worker${args.workers > 1 ? 's' : ''}${args.sticky && args.workers > 1 ? ' (sticky by client address)' : ''} (Press CTRL+C to quit)`)
}

module.exports = { Supervisor, StartupError, runCli, slotOf }
