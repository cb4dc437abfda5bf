import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HandlerFunction } from '../../infra/constructs/handler-function.ts';
import { ESM_REQUIRE_BANNER } from '../../infra/lambda-defaults.ts';
import { logicalId, SYNTH_TIMEOUT, type Synthesized, synthesize } from './synth.ts';

/**
 * The one synthesis that runs as `cdk synth` does: real handlers bundled by the project's esbuild, cdk-nag and
 * CDK's CloudFormation validation. The other infra tests swap the bundles for a stub and skip the latter.
 */
describe('handler bundles', () => {
  let s: Synthesized;
  let assemblyDir: string;
  beforeAll(() => {
    s = synthesize('dev', { bundle: true, validate: true });
    assemblyDir = s.app.synth().directory;
  }, SYNTH_TIMEOUT);

  const bundles = () =>
    [
      ['api', s.stack.httpApi.handler],
      ['recorder', s.stack.recorder.handler],
      ['projector', s.stack.projector.handler],
    ] as const;

  /** The staged asset directory of a handler, found through the S3 key its function deploys from. */
  const assetDir = (handler: HandlerFunction): string => {
    const fn = s.template.toJSON().Resources[logicalId(s.stack, handler.function)].Properties;
    const key: string = fn.Code.S3Key;
    expect(key).toMatch(/^[0-9a-f]{64}\.zip$/);
    return join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
  };

  it('passes cdk-nag and CloudFormation validation without a single finding', () => {
    const report = JSON.parse(readFileSync(join(assemblyDir, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it('deploys each handler from an asset bundled as an ES module', () => {
    for (const [name, handler] of bundles()) {
      const fn = s.template.toJSON().Resources[logicalId(s.stack, handler.function)].Properties;
      expect(fn.Handler, name).toBe('index.handler');
      expect(existsSync(join(assetDir(handler), 'index.mjs')), name).toBe(true);
    }
  });

  it('starts each bundle with the banner that gives CommonJS dependencies a require', () => {
    for (const [name, handler] of bundles()) {
      const code = readFileSync(join(assetDir(handler), 'index.mjs'), 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER), name).toBe(true);
    }
  });

  it('bundles each handler from its entry in functions/, leaving the AWS SDK to the runtime', () => {
    for (const [name, handler] of bundles()) {
      const map = JSON.parse(readFileSync(join(assetDir(handler), 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      expect(
        map.sources.some((source) => source.endsWith(`functions/${name}.ts`)),
        name,
      ).toBe(true);
      expect(
        map.sources.filter((source) => /node_modules\/@aws-sdk\//.test(source)),
        name,
      ).toEqual([]);
    }
  });

  it('takes only the parts of zod it uses: its English messages, not every locale it ships', () => {
    // `import { z } from 'zod'` reaches zod through one namespace object that esbuild cannot shake, which
    // put every locale in every bundle (562 KB for the API); `import * as z` lets it drop what is unused.
    for (const [name, handler] of bundles()) {
      const map = JSON.parse(readFileSync(join(assetDir(handler), 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      const locales = map.sources.filter((source) => source.includes('node_modules/zod/v4/locales/'));
      expect(
        locales.map((source) => source.slice(source.lastIndexOf('/') + 1)),
        name,
      ).toEqual(['en.js']);
    }
  });

  it('minifies the bundles and keeps source contents out of their maps', () => {
    for (const [name, handler] of bundles()) {
      const dir = assetDir(handler);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // Minified code is nearly all on very long lines (template literals keep their own line breaks);
      // esbuild's unminified output has none over 1,000 characters.
      const onLongLines = code
        .split('\n')
        .filter((line) => line.length > 1_000)
        .reduce((sum, line) => sum + line.length, 0);
      expect(onLongLines / code.length, name).toBeGreaterThan(0.9);
      expect(code, name).toContain('//# sourceMappingURL=index.mjs.map');
      const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as {
        sourcesContent?: unknown;
      };
      expect(map.sourcesContent, name).toBeUndefined();
    }
  });
});
