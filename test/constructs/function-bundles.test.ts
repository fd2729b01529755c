import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MedicFunction } from '../../lib/platform/function';
import { bundleHandler } from '../../lib/package/handler-bundles';

/*
 * What `cdk synth` deploys from a clone: each function's asset is its own handler's bundle, the
 * same bytes the package build ships (lib/package/build.ts). Bundling is on here (the other
 * template tests skip it), for two handlers only.
 */

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

test('every function is deployed with its own handler\'s bundle, identical to the packaged one', () => {
  const outdir = tempDir('medic-bundles-');
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundles', { env: { account: '111111111111', region: 'eu-west-1' } });
  const handlers = ['finish', 'admit'];
  for (const handler of handlers) new MedicFunction(stack, `Fn-${handler}`, { handler, description: handler });
  app.synth();

  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'Bundles.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
  const assetOf = (handler: string) => {
    const [resource] = Object.values(functions).filter((f) => f.Metadata?.['medic:entry'] === `${handler}/index.ts`);
    const hash = String(resource.Properties.Code.S3Key).replace(/\.zip$/, '');
    return path.join(outdir, manifest.files[hash].source.path);
  };
  // A bundle is a folder: index.mjs (what `index.handler` loads) and the chunks it imports on demand.
  const digests = (dir: string) => Object.fromEntries(fs.readdirSync(dir).sort()
    .map((f) => [f, createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
  const staged = handlers.map((h) => digests(assetOf(h)));
  for (const files of staged) expect(Object.keys(files)).toContain('index.mjs');
  expect(staged[0]['index.mjs']).not.toBe(staged[1]['index.mjs']);
  for (const [i, handler] of handlers.entries()) {
    const packaged = tempDir(`medic-${handler}-`);
    bundleHandler(handler, packaged);
    expect(staged[i]).toEqual(digests(packaged));
  }
});
