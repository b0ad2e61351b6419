import { createHmac, hash, timingSafeEqual } from 'node:crypto'
import type { HashType } from './types.js'

/** The URL carries the first 7 bytes of the digest. */
export const HASH_BYTES = 7

const keyCache = new Map<string, Buffer>()
const KEY_CACHE_LIMIT = 1024

/** UTF-8 bytes of a key, cached: a server decodes many captures of the same few tags. */
function keyBytes(secretKey: string): Buffer {
  let key = keyCache.get(secretKey)
  if (key === undefined) {
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear()
    key = Buffer.from(secretKey, 'utf8')
    keyCache.set(secretKey, key)
  }
  return key
}

/** MD5, or HMAC-MD5 (RFC 2104) keyed with the UTF-8 bytes of `secretKey`. */
export function digest(message: Uint8Array, hashType: HashType, secretKey: string): Buffer {
  return hashType === 'HMAC_MD5'
    ? createHmac('md5', keyBytes(secretKey)).update(message).digest()
    : hash('md5', message, 'buffer')
}

/** Constant-time comparison of the digest's prefix with the hash from the URL. */
export function hashMatches(calculated: Uint8Array, fromUrl: Uint8Array): boolean {
  return timingSafeEqual(calculated.subarray(0, HASH_BYTES), fromUrl.subarray(0, HASH_BYTES))
}
