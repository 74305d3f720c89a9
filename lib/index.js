'use strict'
// node-asgi: serve Python ASGI 3.0 apps (FastAPI, Starlette, raw ASGI) from Node.js, in-process.
const { PythonHandler } = require('./handler')
const { PythonError } = require('./errors')

module.exports = { PythonHandler, PythonError }
