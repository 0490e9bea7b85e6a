// `node --import ./test/support/hide-chopsticks.mjs …`: the process resolves @acala-network/chopsticks*
// as if it were not installed (ERR_MODULE_NOT_FOUND, as Node reports a missing package).
import { register } from 'node:module';

const hook = `
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@acala-network/chopsticks')) {
    const err = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
