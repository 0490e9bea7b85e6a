#!/usr/bin/env node
// `hs58` from the TypeScript sources, through tsx's loader: no build step to forget while
// developing. Production runs `node dist/hs58.mjs` (`npm run build`), the same program bundled.
import { register } from 'tsx/esm/api';

register();
await import('../neurons/main.ts');
