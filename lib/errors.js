'use strict'
// Errors node-asgi raises: PythonError carries a Python exception (type, message, traceback) into JS.

class PythonError extends Error {
  /**
   * @param {{type: string, message: string, traceback: string}} info as flattened on the loop thread
   * @param {string} [context] what node-asgi was doing ("loading the app", ...)
   */
  constructor (info, context) {
    const text = info.message ? `${info.type}: ${info.message}` : info.type
    super(context ? `${context}: ${text}` : text)
    this.name = 'PythonError'
    /** Qualified Python exception type, e.g. "ModuleNotFoundError" or "pydantic.error_wrappers.ValidationError". */
    this.type = info.type
    /** str() of the Python exception. */
    this.pythonMessage = info.message
    /** The formatted Python traceback ("Traceback (most recent call last): ..."), or '' when there is none. */
    this.traceback = info.traceback || ''
  }
}

module.exports = { PythonError }
