/** The URL format's major version: `v` must carry it. */
export const CODEC_MAJOR_VERSION = 2

/** The cuplcodec release whose URL format and vectors this codec reproduces. */
export const CODEC_VERSION = '2.1.0'
