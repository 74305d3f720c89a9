'use strict'
// handleRequestSync()'s engine: a worker thread that runs its own Python instance of the app; the
// calling thread posts a request and blocks in Atomics.wait() until the worker has posted the
// response, then takes it with receiveMessageOnPort(). One request at a time per worker.
const path = require('node:path')
const { Worker, MessageChannel, receiveMessageOnPort } = require('node:worker_threads')
const { PythonError } = require('./errors')

const WAITING = 0
const ANSWERED = 1

/** The worker's error, rebuilt as the class it was (a structured clone keeps only the fields). */
function revive (e) {
  let error
  if (e.name === 'PythonError') {
    error = new PythonError({ type: e.type, message: e.pythonMessage, traceback: e.traceback })
    error.message = e.message
  } else {
    error = e.name === 'TypeError' ? new TypeError(e.message) : new Error(e.message)
  }
  if (e.code !== undefined) error.code = e.code
  if (e.log !== undefined) error.log = e.log
  return error
}

class SyncRunner {
  constructor (docroot, appTarget) {
    this.docroot = docroot
    this.appTarget = appTarget
    this.worker = null
    this.port = null
    this.flag = null // Int32Array over a SharedArrayBuffer: WAITING or ANSWERED
    this.closed = false
    this.lastId = 0 // of the last request posted; answers carry it
  }

  #spawn () {
    const { port1, port2 } = new MessageChannel()
    this.flag = new Int32Array(new SharedArrayBuffer(4))
    this.worker = new Worker(path.join(__dirname, 'platformatic_sync_worker.js'), {
      workerData: { docroot: this.docroot, appTarget: this.appTarget, flag: this.flag, port: port2 },
      transferList: [port2]
    })
    this.worker.unref() // an idle worker never keeps the process alive
    this.worker.on('error', () => {}) // reported to the blocked caller through the port instead
    this.port = port1
    this.port.unref()
  }

  /** Runs one request ({ method, url, headers (flat), body, socket }); returns the worker's answer. */
  run (request) {
    if (this.closed) {
      const err = new Error('node-asgi/platformatic: this Python instance is closed')
      err.code = 'ERR_NODE_ASGI_CLOSED'
      throw err
    }
    if (this.worker === null) this.#spawn()
    const id = ++this.lastId
    Atomics.store(this.flag, 0, WAITING)
    this.port.postMessage({ id, request })
    for (;;) {
      Atomics.wait(this.flag, 0, WAITING)
      Atomics.store(this.flag, 0, WAITING) // taken: a later answer wakes the next wait
      for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
        if (m.message.id !== id) continue // an answer to nothing in flight (a stray worker error)
        if (m.message.error) throw revive(m.message.error)
        return m.message
      }
    }
  }

  close () {
    if (this.closed) return
    this.closed = true
    if (this.worker !== null) {
      this.port.postMessage({ close: true }) // lifespan shutdown runs, then the worker exits
    }
  }
}

module.exports = { SyncRunner, WAITING, ANSWERED }
