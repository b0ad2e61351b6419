/** HDC2021 temperature: raw × 165 / 4096 − 40 °C. Same operation order as the reference, so the same doubles. */
export function rawToTemp(raw: number): number {
  return (raw * 165) / 4096 - 40
}

/** HDC2021 relative humidity: raw × 100 / 4096 %. */
export function rawToRh(raw: number): number {
  return (raw * 100) / 4096
}

/**
 * The reference package's physical → raw helper: truncates and does not clamp, so 125 °C gives
 * 4096, which the tag's 12-bit field stores as 0.
 */
export function tempToRaw(celsius: number): number {
  return Math.trunc(((celsius + 40) * 4096) / 165)
}

export function rhToRaw(percent: number): number {
  return Math.trunc((percent * 4096) / 100)
}
