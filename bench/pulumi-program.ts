import * as pulumi from '@pulumi/pulumi';
import { ApiKey } from '../provider/pulumi';

/*
 * The program bench/pulumi times: BENCH_KEYS resources, either keyward ApiKeys (BENCH_KIND=apikey)
 * or, as the baseline, dynamic resources whose provider does nothing (BENCH_KIND=noop), so the
 * ratio shows what keyward adds on top of the engine and the dynamic-provider host.
 */
const count = Number(process.env.BENCH_KEYS ?? 1);
const noop: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `noop-${inputs.name}`, outs: inputs };
  },
};

/** A dynamic resource that only records its inputs. */
class Noop extends pulumi.dynamic.Resource {
  constructor(name: string) {
    super(noop, name, { name }, {}, 'bench', 'Noop');
  }
}

for (let index = 0; index < count; index += 1) {
  if (process.env.BENCH_KIND === 'noop') new Noop(`noop-${index}`);
  else
    new ApiKey(`key-${index}`, {
      name: `bench key ${index}`,
      scopes: ['contacts:read'],
      ipAllowlist: ['10.0.0.0/8'],
      rotation: { gracePeriod: '0s' },
    });
}
