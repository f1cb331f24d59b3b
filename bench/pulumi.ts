import { pulumiProject } from '../test/e2e/fixtures/pulumi-project';
import { iacOptions, runBench, seconds, withKeywardServer } from './iac-run';

/*
 * bench/pulumi: wall time of `pulumi up` (creating N keys), `preview` right after (no changes) and
 * `destroy`, for N = 1, 10, 100 ApiKeys under the real engine, against the same N no-op dynamic
 * resources in the same run. Needs KEYWARD_ENGINES_BIN (or PULUMI_BIN) and a build.
 *   node dist/bench/pulumi.js [--counts 1,10,100] [--warm-keys 300]
 */
const { counts, warmKeys } = iacOptions({});

async function timeStack(kind: 'apikey' | 'noop', count: number, env: NodeJS.ProcessEnv) {
  const project = pulumiProject(`bench-${kind}-${count}`, { ...env, BENCH_KIND: kind, BENCH_KEYS: String(count) });
  try {
    const up = await project.run('bench/pulumi-program.js', 'up');
    if (up.summary.create !== count + 1)
      throw new Error(`up created ${JSON.stringify(up.summary)}, expected ${count} resources and the stack`);
    const preview = await project.run('bench/pulumi-program.js', 'preview');
    if (preview.summary.same !== count + 1)
      throw new Error(`preview after up was not empty: ${JSON.stringify(preview.summary)}`);
    const destroy = await project.run('bench/pulumi-program.js', 'destroy');
    return { up: up.milliseconds, preview: preview.milliseconds, destroy: destroy.milliseconds };
  } finally {
    project.remove();
  }
}

async function main(): Promise<void> {
  await withKeywardServer('keyward-bench-pulumi-', warmKeys, async (env) => {
    console.log(
      `Node ${process.version}, ${warmKeys ? `server warmed with ${warmKeys} keys` : 'server freshly started'}\n`,
    );
    console.log(
      '| keys | up (s) | no-op up (s) | ratio | preview (s) | no-op preview (s) | ratio | destroy (s) | no-op destroy (s) |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const count of counts) {
      const baseline = await timeStack('noop', count, {});
      const keys = await timeStack('apikey', count, env);
      console.log(
        `| ${count} | ${seconds(keys.up)} | ${seconds(baseline.up)} | ${(keys.up / baseline.up).toFixed(2)} | ${seconds(keys.preview)} | ${seconds(baseline.preview)} | ${(keys.preview / baseline.preview).toFixed(2)} | ${seconds(keys.destroy)} | ${seconds(baseline.destroy)} |`,
      );
    }
  });
}

runBench(main);
