// The registry this project is built against serves no packages for other platforms, so npm 11
// leaves their optional entries out of package-lock.json and `npm ci` then refuses the lock.
// This adds the missing platform-restricted optional entries (version, os, cpu only); npm ci
// skips them on other platforms and fetches them as usual where they exist. Run after any
// dependency change: `npm run lock:fix`.
const fs = require('node:fs');
const l = JSON.parse(fs.readFileSync('package-lock.json'));
const added = [];
for (const [k, v] of Object.entries({ ...l.packages })) {
  for (const [dep, ver] of Object.entries(v.optionalDependencies || {})) {
    const base = k ? `${k}/node_modules/${dep}` : `node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (l.packages[base] || l.packages[top]) continue;
    const m = dep.match(/(darwin|linux|win32|freebsd|android|openbsd|sunos|aix|netbsd)-(x64|amd64|arm64|arm|ia32|ppc64|s390x|riscv64|loong64|mips64el)/);
    if (!m) {
      console.error('cannot infer platform of', dep);
      process.exit(1);
    }
    const cpu = m[2] === 'amd64' ? 'x64' : m[2];
    l.packages[top] = { version: ver.replace(/^[\^~=]/, ''), cpu: [cpu], os: [m[1]], optional: true };
    added.push(dep);
  }
}
fs.writeFileSync('package-lock.json', `${JSON.stringify(l, null, 2)}\n`);
console.log('added', added.join(' '));
