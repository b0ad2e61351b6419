const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The tag pads with `.` where RFC 4648 uses `=`. */
export const PAD = '.'

/** 6-bit value of each ASCII code, -1 outside the alphabet; index with `?? -1` for codes ≥ 128. */
export const SEXTET: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1)
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i
  return table
})()

export function sextet(code: number): number {
  return SEXTET[code] ?? -1
}

/**
 * Strict base64url as the tag writes it: length a multiple of 4, `.` only as the final padding.
 * Unlike the reference's decoder, characters outside the alphabet (including `+`, `/`, `=` and
 * anything non-ASCII) are refused rather than dropped or translated; like it, the unused low bits
 * of a padded group are ignored.
 * Returns the bytes, or the reason they could not be decoded.
 */
export function decodeBase64Url(s: string): Uint8Array | string {
  if (s.length % 4 !== 0) return `length ${s.length} is not a multiple of 4`
  let pad = 0
  if (s.endsWith(PAD)) pad = s.endsWith(PAD + PAD) ? 2 : 1
  const out = new Uint8Array((s.length / 4) * 3 - pad)
  let o = 0
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length
    const a = sextet(s.charCodeAt(i))
    const b = sextet(s.charCodeAt(i + 1))
    const c = last && pad === 2 ? 0 : sextet(s.charCodeAt(i + 2))
    const d = last && pad >= 1 ? 0 : sextet(s.charCodeAt(i + 3))
    if ((a | b | c | d) < 0) {
      const at = firstInvalid(s, i, last ? 4 - pad : 4)
      return `character ${JSON.stringify(s[at])} at index ${at} is not base64url`
    }
    out[o++] = (a << 2) | (b >> 4)
    if (o < out.length) out[o++] = ((b & 15) << 4) | (c >> 2)
    if (o < out.length) out[o++] = ((c & 3) << 6) | d
  }
  return out
}

function firstInvalid(s: string, from: number, count: number): number {
  for (let i = from; i < from + count; i++) if (sextet(s.charCodeAt(i)) < 0) return i
  return from
}

/** 4 characters of `s` from `at` as 24 bits; -1 if one is not in the alphabet (`.` included). */
export function decodeQuad(s: string, at: number): number {
  const a = sextet(s.charCodeAt(at))
  const b = sextet(s.charCodeAt(at + 1))
  const c = sextet(s.charCodeAt(at + 2))
  const d = sextet(s.charCodeAt(at + 3))
  return (a | b | c | d) < 0 ? -1 : (a << 18) | (b << 12) | (c << 6) | d
}

/**
 * Why `s` is not `bytes` bytes of strict base64url: for error messages, once a fast path has
 * failed. `null` if it is.
 */
export function base64Problem(s: string, bytes: number): string | null {
  const decoded = decodeBase64Url(s)
  if (typeof decoded === 'string') return decoded
  return decoded.length === bytes ? null : `expected ${bytes} bytes, got ${decoded.length}`
}

/** base64url with `.` padding, as the firmware's `Base64encode` writes it. */
export function encodeBase64Url(bytes: Uint8Array): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
  return s + PAD.repeat((4 - (s.length % 4)) % 4)
}
