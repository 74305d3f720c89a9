'use strict'
// new PythonHandler(options) validates synchronously: errors name the option at fault.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const { PythonHandler } = require('..')

const FIXTURES = path.resolve(__dirname, '..', 'fixtures')
const base = { app: 'raw_apps:echo', appDir: FIXTURES }

function throwsNaming (options, ErrorClass, ...patterns) {
  let error = null
  try {
    // eslint-disable-next-line no-new
    new PythonHandler(options)
  } catch (err) {
    error = err
  }
  assert.ok(error, `expected new PythonHandler(${JSON.stringify(options)}) to throw`)
  assert.ok(error instanceof ErrorClass, `expected a ${ErrorClass.name}, got ${error.constructor.name}: ${error.message}`)
  for (const pattern of patterns) assert.match(error.message, pattern)
  return error
}

test('an unknown option is a TypeError naming it, with a did-you-mean guess for a case/underscore variant', () => {
  throwsNaming({ ...base, appdir: FIXTURES }, TypeError, /'appdir'/, /did you mean 'appDir'/)
  throwsNaming({ ...base, root_path: '/x' }, TypeError, /'root_path'/, /did you mean 'rootPath'/)
  throwsNaming({ ...base, LifeSpan: 'on' }, TypeError, /'LifeSpan'/, /did you mean 'lifespan'/)
})

test('an unknown option with a one-letter typo gets a did-you-mean guess', () => {
  throwsNaming({ ...base, lifspan: 'on' }, TypeError, /'lifspan'/, /did you mean 'lifespan'/)
  throwsNaming({ ...base, timeoutGracefullShutdown: 5 }, TypeError, /'timeoutGracefullShutdown'/, /did you mean 'timeoutGracefulShutdown'/)
})

test('an unknown option with nothing close has no guess', () => {
  const err = throwsNaming({ ...base, colour: 'blue' }, TypeError, /unknown option 'colour'/)
  assert.doesNotMatch(err.message, /did you mean/)
})

test('a bad lifespan value is a TypeError naming lifespan and the allowed values', () => {
  throwsNaming({ ...base, lifespan: 'maybe' }, TypeError, /'lifespan'/, /'auto'/, /'on'/, /'off'/, /"maybe"/)
  throwsNaming({ ...base, lifespan: true }, TypeError, /'lifespan'/)
})

test('a missing app is a TypeError naming app', () => {
  throwsNaming({ appDir: FIXTURES }, TypeError, /'app'/, /module:attribute/)
})

test('the message for a missing value says "got undefined" once', () => {
  const err = throwsNaming({ appDir: FIXTURES }, TypeError, /'app'/)
  assert.match(err.message, /got undefined$/)
})

test('an app without ":attribute" is a TypeError naming app', () => {
  throwsNaming({ ...base, app: 'raw_apps' }, TypeError, /'app'/, /"raw_apps"/)
  throwsNaming({ ...base, app: 42 }, TypeError, /'app'/)
})

test('an appDir that does not exist is an Error naming appDir and the path', () => {
  const missing = path.join(os.tmpdir(), `node-asgi-no-such-dir-${process.pid}`)
  throwsNaming({ ...base, appDir: missing }, Error, /'appDir'/, new RegExp(missing.replace(/[/.-]/g, '\\$&')), /does not exist/)
})

test('an appDir that is a file is an Error naming appDir', () => {
  throwsNaming({ ...base, appDir: path.join(FIXTURES, 'test_start_errors.py') }, Error, /'appDir'/, /not a directory/)
})

test('a rootPath not starting with "/" is a TypeError naming rootPath', () => {
  throwsNaming({ ...base, rootPath: 'api' }, TypeError, /'rootPath'/, /"api"/)
  throwsNaming({ ...base, rootPath: 5 }, TypeError, /'rootPath'/)
})

test('a trailing slash on rootPath is dropped', () => {
  const handler = new PythonHandler({ ...base, rootPath: '/api/' })
  assert.equal(handler.options.rootPath, '/api')
})

test('a virtualenv directory without pyvenv.cfg is an Error naming virtualenv', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-not-a-venv-'))
  try {
    throwsNaming({ ...base, virtualenv: dir }, Error, /'virtualenv'/, /pyvenv\.cfg/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a virtualenv that does not exist is an Error naming virtualenv', () => {
  throwsNaming({ ...base, virtualenv: path.join(os.tmpdir(), `node-asgi-no-venv-${process.pid}`) }, Error, /'virtualenv'/, /does not exist/)
})

test('wrong types for other options are TypeErrors naming them', () => {
  throwsNaming({ ...base, factory: 'yes' }, TypeError, /'factory'/)
  throwsNaming({ ...base, pathIncludesRootPath: 1 }, TypeError, /'pathIncludesRootPath'/)
  throwsNaming({ ...base, loop: 'trio' }, TypeError, /'loop'/)
  throwsNaming({ ...base, timeoutGracefulShutdown: -1 }, TypeError, /'timeoutGracefulShutdown'/)
  throwsNaming({ ...base, logLevel: 'verbose' }, TypeError, /'logLevel'/)
  throwsNaming({ ...base, logger: {} }, TypeError, /'logger'/)
  throwsNaming({ ...base, limitConcurrency: 0 }, TypeError, /'limitConcurrency'/)
})

test('options that are not an object are a TypeError', () => {
  throwsNaming('raw_apps:echo', TypeError, /options object/)
  throwsNaming(null, TypeError, /options object/)
})

test('valid options are normalised and frozen; appDir is absolute', () => {
  const handler = new PythonHandler({ app: 'raw_apps:echo', appDir: path.relative(process.cwd(), FIXTURES) || '.' })
  assert.equal(handler.options.appDir, FIXTURES)
  assert.equal(handler.options.lifespan, 'auto')
  assert.equal(handler.options.rootPath, '')
  assert.equal(handler.options.factory, false)
  assert.ok(Object.isFrozen(handler.options))
  assert.equal(handler.state, 'new')
})

test('constructing a handler does not start Python or keep Node busy', async () => {
  const handler = new PythonHandler(base)
  assert.equal(handler.state, 'new')
  await handler.close()
  assert.equal(handler.state, 'closed')
})
