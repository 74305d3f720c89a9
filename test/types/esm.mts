// Type test from an ES module: named imports of 'node-asgi' and the default import of
// 'node-asgi/fastify' (Node gives ESM the CommonJS module.exports, the plugin function).
import Fastify from 'fastify'
import { PythonHandler, PythonError } from 'node-asgi'
import nodeAsgi from 'node-asgi/fastify'

const handler = new PythonHandler({ app: 'main:app' })
const fastify = Fastify()
await fastify.register(nodeAsgi, { prefix: '/api', handler })
console.log(PythonError.name)
// The default import is module.exports, as Node gives it to ES modules
import asgi from 'node-asgi'
console.log(new asgi.PythonHandler({ app: 'main:app' }).state)
// @ts-expect-error no such named export
import { PythonHandlr } from 'node-asgi'
console.log(PythonHandlr)
