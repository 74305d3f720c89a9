'use strict'
// FastAPI 0.92 (Starlette 0.26) under a root path: rootPath + pathIncludesRootPath: false, since
// Starlette < 0.33 routes on scope["path"] as is; url_for still builds URLs with the root path.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startServer } = require('./helpers')

test('with rootPath and pathIncludesRootPath: false, routes match and url_for includes the root path', async (t) => {
  const served = await startServer('fastapi_app:app', { rootPath: '/prefix', pathIncludesRootPath: false })
  t.after(() => served.close())
  // a proxy in front strips /prefix: the app is reached at /items/5, and knows it lives under /prefix
  const item = await fetch(`${served.url}/items/5?q=r`)
  assert.equal(item.status, 200)
  assert.deepEqual(await item.json(), { item_id: 5, q: 'r' })
  const urlFor = await (await fetch(`${served.url}/url-for`)).json()
  assert.deepEqual(urlFor, { url: `${served.url}/prefix/items/5`, root_path: '/prefix' })
})

test('a trailing slash on rootPath does not double the slash in url_for', async (t) => {
  const served = await startServer('fastapi_app:app', { rootPath: '/prefix/', pathIncludesRootPath: false })
  t.after(() => served.close())
  const urlFor = await (await fetch(`${served.url}/url-for`)).json()
  assert.equal(urlFor.url, `${served.url}/prefix/items/5`)
  assert.equal(urlFor.root_path, '/prefix')
})

test('a nested root path with FastAPI\'s path parameters and POST bodies', async (t) => {
  const served = await startServer('fastapi_app:app', { rootPath: '/a/b', pathIncludesRootPath: false })
  t.after(() => served.close())
  assert.deepEqual(await (await fetch(`${served.url}/files/x%2Fy`)).json(), { file_path: 'x/y' })
  const posted = await fetch(`${served.url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"n","price":2}' })
  assert.equal(posted.status, 200)
  assert.equal((await posted.json()).name, 'n')
  assert.equal((await (await fetch(`${served.url}/url-for`)).json()).url, `${served.url}/a/b/items/5`)
})

test('the OpenAPI docs page points at the schema under the root path', async (t) => {
  const served = await startServer('fastapi_app:app', { rootPath: '/prefix', pathIncludesRootPath: false })
  t.after(() => served.close())
  const docs = await fetch(`${served.url}/docs`)
  assert.equal(docs.status, 200)
  assert.match(await docs.text(), /\/prefix\/openapi\.json/)
})
