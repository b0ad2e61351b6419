// Writes openapi.yaml: the document @fastify/swagger generates from the route schemas.
import { writeFile } from 'node:fs/promises'
import { generateOpenApi } from './openapi-document.js'

const path = new URL('../openapi.yaml', import.meta.url)
await writeFile(path, await generateOpenApi())
console.log('wrote openapi.yaml')
