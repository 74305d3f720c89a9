'use strict'
// Headers of node-asgi/platformatic: @platformatic/python-node's multi-value header map, as its
// REFERENCE.md documents it (lower-cased names, a name's values in the order they were added).

const { describe, HTTP_TOKEN: TOKEN, UNSAFE_HEADER_VALUE: BAD_VALUE } = require('./options')

function checkName (name, where) {
  if (typeof name !== 'string') throw new TypeError(`node-asgi/platformatic: ${where} must be a header name string, got ${describe(name)}`)
  if (!TOKEN.test(name)) throw new TypeError(`node-asgi/platformatic: ${where} ${JSON.stringify(name)} is not a valid HTTP header name`)
  return name.toLowerCase()
}

function checkValue (value, name) {
  if (typeof value !== 'string') throw new TypeError(`node-asgi/platformatic: header '${name}' value must be a string, got ${describe(value)}`)
  if (BAD_VALUE.test(value)) throw new TypeError(`node-asgi/platformatic: header '${name}' value has a CR, LF or NUL`)
  return value
}

function checkValues (value, name) {
  if (Array.isArray(value)) return value.map((v) => checkValue(v, name))
  return [checkValue(value, name)]
}

class Headers {
  #map = new Map() // lower-cased name → [value, ...] (never empty)

  /** @param {Headers | Record<string, string | string[]> | null} [init] */
  constructor (init) {
    if (init === undefined || init === null) return
    if (init instanceof Headers) {
      for (const [name, values] of init.#map) this.#map.set(name, values.slice())
      return
    }
    if (typeof init !== 'object' || Array.isArray(init)) {
      throw new TypeError(`node-asgi/platformatic: 'headers' must be an object of name → string or string[], or a Headers, got ${describe(init)}`)
    }
    for (const key of Object.keys(init)) {
      const value = init[key]
      if (value === undefined) continue
      const name = checkName(key, "'headers' name")
      const values = checkValues(value, key)
      if (values.length === 0) continue
      const prior = this.#map.get(name)
      if (prior) prior.push(...values)
      else this.#map.set(name, values)
    }
  }

  /** Builds from a flat [name, value, ...] list the app sent (already validated by node-asgi). */
  static fromFlat (flat) {
    const headers = new Headers()
    const map = headers.#map
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i].toLowerCase()
      const prior = map.get(name)
      if (prior) prior.push(flat[i + 1])
      else map.set(name, [flat[i + 1]])
    }
    return headers
  }

  /** The flat [name, value, ...] list, every value on its own (for node-asgi). */
  toFlat () {
    const flat = []
    for (const [name, values] of this.#map) for (const v of values) flat.push(name, v)
    return flat
  }

  /** The last value of `key`, or null. */
  get (key) {
    const values = this.#map.get(checkName(key, 'key'))
    return values ? values[values.length - 1] : null
  }

  /** Every value of `key` (a new array; empty when absent). */
  getAll (key) {
    const values = this.#map.get(checkName(key, 'key'))
    return values ? values.slice() : []
  }

  /** The values of `key` joined with ',' (as on one header line), or null. Not for set-cookie. */
  getLine (key) {
    const values = this.#map.get(checkName(key, 'key'))
    return values ? values.join(',') : null
  }

  has (key) { return this.#map.has(checkName(key, 'key')) }

  /** Replaces the values of `key` with `value` (a string or an array of strings). */
  set (key, value) {
    const name = checkName(key, 'key')
    const values = checkValues(value, key)
    if (values.length === 0) this.#map.delete(name)
    else this.#map.set(name, values)
    return true
  }

  /** Adds `value` after the values `key` already has. */
  add (key, value) {
    const name = checkName(key, 'key')
    const v = checkValue(value, key)
    const prior = this.#map.get(name)
    if (prior) prior.push(v)
    else this.#map.set(name, [v])
    return true
  }

  /** Removes every value of `key`; whether there was one. */
  delete (key) { return this.#map.delete(checkName(key, 'key')) }

  clear () { this.#map.clear() }

  /** The number of header names. */
  get size () { return this.#map.size }

  /** [name, line] per name, the line being getLine(name). */
  entries () {
    const out = []
    for (const [name, values] of this.#map) out.push([name, values.join(',')])
    return out
  }

  keys () { return [...this.#map.keys()] }

  /** One line per name (getLine). */
  values () {
    const out = []
    for (const values of this.#map.values()) out.push(values.join(','))
    return out
  }

  /** callback(line, name, headers) per name. */
  forEach (callback) {
    if (typeof callback !== 'function') throw new TypeError(`node-asgi/platformatic: forEach() 'callback' must be a function, got ${describe(callback)}`)
    for (const [name, values] of this.#map) callback(values.join(','), name, this)
  }

  /** { name: value } with a name's several values as an array. */
  toJSON () {
    const out = {}
    for (const [name, values] of this.#map) out[name] = values.length === 1 ? values[0] : values.slice()
    return out
  }
}

module.exports = { Headers, describe, TOKEN }
