// `node --import ./edge-runtime.mjs`: a Node that cannot load undici nor any Node built-in module (node:crypto,
// node:http…), as in an edge runtime. What is left is what every runtime has: fetch, Web Crypto, TextEncoder.
import { register } from 'node:module';

const hooks = `
import { isBuiltin } from 'node:module';
export async function resolve(specifier, context, next) {
  if (specifier === 'undici' || specifier.startsWith('undici/') || isBuiltin(specifier)) {
    throw new Error('edge-runtime.mjs: ' + specifier + ' cannot be loaded here');
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
