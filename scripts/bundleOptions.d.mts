import type { BuildOptions } from 'esbuild';
export declare const EXTERNAL: string[];
export declare const BUNDLE_OPTIONS: BuildOptions & { banner: { js: string } };
