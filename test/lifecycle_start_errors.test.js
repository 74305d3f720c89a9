'use strict'
// start() rejects with a PythonError (type, pythonMessage, traceback) when the app cannot be loaded.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { PythonHandler, PythonError } = require('..')

const FIXTURES = path.resolve(__dirname, '..', 'fixtures')
const quiet = { error () {}, warn () {}, info () {} }

async function startFailure (app, options = {}) {
  const handler = new PythonHandler({ app, appDir: FIXTURES, logger: quiet, ...options })
  let error = null
  try {
    await handler.start()
  } catch (err) {
    error = err
  }
  assert.ok(error, `start() of ${app} should reject`)
  return { handler, error }
}

function assertPythonError (error, type, messagePattern) {
  assert.ok(error instanceof PythonError, `expected a PythonError, got ${error && error.constructor.name}: ${error && error.message}`)
  assert.ok(error instanceof Error)
  assert.equal(error.name, 'PythonError')
  assert.equal(error.type, type)
  assert.equal(typeof error.pythonMessage, 'string')
  assert.match(error.pythonMessage, messagePattern)
  assert.match(error.message, new RegExp(`${type}: `))
  assert.ok(error.message.includes(error.pythonMessage), 'message includes the Python message')
  assert.equal(typeof error.traceback, 'string')
  assert.match(error.traceback, /^Traceback \(most recent call last\):/)
  assert.ok(error.traceback.trimEnd().endsWith(`${type}: ${error.pythonMessage}`), `traceback ends with the exception line:\n${error.traceback}`)
}

test('a module that is not found rejects with ModuleNotFoundError naming the module', async () => {
  const { handler, error } = await startFailure('no_such_module_for_node_asgi:app')
  assertPythonError(error, 'ModuleNotFoundError', /no_such_module_for_node_asgi/)
  assert.equal(handler.state, 'failed')
})

test('a module whose own import is missing rejects with ModuleNotFoundError naming the dependency', async () => {
  const { error } = await startFailure('test_import_missing_dependency:app')
  assertPythonError(error, 'ModuleNotFoundError', /no_such_dependency_for_node_asgi_tests/)
  assert.match(error.traceback, /test_import_missing_dependency\.py/)
})

test('a missing attribute rejects with AttributeError naming the attribute and module', async () => {
  const { error } = await startFailure('test_start_errors:missing_app')
  assertPythonError(error, 'AttributeError', /missing_app/)
  assert.match(error.pythonMessage, /test_start_errors/)
})

test('an attribute that is not callable rejects with TypeError', async () => {
  const { error } = await startFailure('test_start_errors:not_callable')
  assertPythonError(error, 'TypeError', /not callable/)
})

test('a module whose import raises rejects with that exception and a traceback through the module', async () => {
  const { error } = await startFailure('test_import_raises:app')
  assertPythonError(error, 'RuntimeError', /^boom at import time$/)
  assert.match(error.traceback, /test_import_raises\.py", line \d+, in <module>/)
})

test('start() after a failure returns the same rejection (idempotent); requests are refused', async () => {
  const { handler, error } = await startFailure('no_such_module_for_node_asgi_2:app')
  await assert.rejects(handler.start(), (err) => err === error)
  await assert.rejects(handler.handleRequest({ url: '/' }))
  await handler.close() // closing a failed handler resolves
})

test('a good module in the same process still starts after failures', async () => {
  const handler = new PythonHandler({ app: 'test_start_errors:app', appDir: FIXTURES, logger: quiet })
  await handler.start()
  const res = await handler.handleRequest({ url: '/' })
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'ok')
  await handler.close()
})
