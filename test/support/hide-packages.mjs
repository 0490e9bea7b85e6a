// `HS58_HIDE_PACKAGES=a,b node --import ./test/support/hide-packages.mjs …`: the process resolves the
// packages whose names start with one of those (`@acala-network/chopsticks` hides chopsticks-core too)
// as if they were not installed (ERR_MODULE_NOT_FOUND, as Node reports a missing package), the way a
// production install (`npm ci --omit=dev`) leaves out the devDependencies.
import { register } from 'node:module';

const hidden = (process.env.HS58_HIDE_PACKAGES ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
if (hidden.length === 0) throw new Error('hide-packages.mjs: set HS58_HIDE_PACKAGES to the packages to hide (comma-separated)');

const hook = `
let hidden = [];
export function initialize(data) {
  hidden = data.hidden;
}
export async function resolve(specifier, context, next) {
  if (hidden.some((name) => specifier.startsWith(name))) {
    const err = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { hidden } });
