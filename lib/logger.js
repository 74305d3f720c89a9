'use strict'
// Level-filtered logging with uvicorn's level names, onto a console-like logger.

const LEVELS = Object.freeze({ trace: 5, debug: 10, info: 20, warning: 30, error: 40, critical: 50 })

class Logger {
  constructor (sink, level) {
    this.sink = sink
    this.threshold = LEVELS[level]
  }

  enabled (level) { return level >= this.threshold }

  /** @param {number} level a Python logging level number (10 debug .. 50 critical) */
  log (level, message) {
    if (level < this.threshold) return
    if (level >= LEVELS.error) this.sink.error(message)
    else if (level >= LEVELS.warning) this.sink.warn(message)
    else if (level >= LEVELS.info) this.sink.info(message)
    else (this.sink.debug || this.sink.info).call(this.sink, message)
  }

  error (message) { this.log(LEVELS.error, message) }
  warning (message) { this.log(LEVELS.warning, message) }
  info (message) { this.log(LEVELS.info, message) }
}

module.exports = { Logger, LEVELS }
