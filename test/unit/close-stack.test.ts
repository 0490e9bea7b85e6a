import { describe, expect, test } from 'vitest';
import { createCloseStack } from '../../src/util/closeStack.js';

describe('createCloseStack', () => {
  test('closes newest first, each part once; a failing part is logged and the rest still close', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, warn: (obj: object) => void warnings.push(JSON.stringify(obj)) };
    const stack = createCloseStack(logger);
    const closed: string[] = [];
    stack.push({ name: 'first', close: () => void closed.push('first') });
    stack.push({ name: 'broken', close: () => Promise.reject(new Error('boom')) });
    stack.push({ name: 'last', close: async () => void closed.push('last') });
    await stack.closeAll();
    expect(closed).toEqual(['last', 'first']);
    expect(warnings).toEqual([JSON.stringify({ part: 'broken', err: 'boom' })]);
    await stack.closeAll();
    expect(closed).toEqual(['last', 'first']);
  });
});
