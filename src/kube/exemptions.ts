/**
 * ImageExemption objects (policy/exemption.ts), watched: the exemptions in force now, and each
 * one's `Active` condition kept true to what it is (Active, Expired, or Invalid with the problem),
 * rewritten when it expires. At most MAX_EXEMPTIONS are kept; an invalid one has no effect.
 */
import { PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseExemption, type CompiledExemption } from '../policy/exemption.js';
import { describeKubeError, type KubeClients } from './client.js';
import { POLICY_RESOURCES } from './constants.js';
import { Watched } from './watched.js';

const MAX_EXEMPTIONS = 256;
/** setTimeout's limit; an expiry further out is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type ExemptionObject = KubernetesObject & { spec?: unknown; status?: unknown };

interface Known {
  readonly compiled: CompiledExemption | undefined;
  readonly problem: string | undefined;
  readonly timer: NodeJS.Timeout | undefined;
}

export class KubeExemptions {
  private readonly watched: Watched<ExemptionObject>;
  private readonly known = new Map<string, Known>();
  private snapshot: readonly CompiledExemption[] = [];

  constructor(private readonly clients: KubeClients, private readonly logger: Logger, private readonly now: () => number = Date.now) {
    const { group, version, exemption } = POLICY_RESOURCES;
    this.watched = new Watched<ExemptionObject>({
      config: clients.config,
      path: `/apis/${group}/${version}/${exemption.plural}`,
      list: () => clients.custom.listClusterCustomObject({ group, version, plural: exemption.plural }) as Promise<{ items: ExemptionObject[] }>,
      what: 'ImageExemption objects',
      whenMissing: 'the CRD imageexemptions.sigward.dev is not installed; apply it with kubectl apply --server-side -f charts/sigward/crds/',
      logger,
      onAdd: (object) => { this.upsert(object); },
      onUpdate: (object) => { this.upsert(object); },
      onDelete: (object) => { this.remove(object.metadata?.name ?? ''); },
    });
  }

  start(): void {
    this.watched.start();
  }

  async stop(): Promise<void> {
    for (const known of this.known.values()) clearTimeout(known.timer);
    await this.watched.stop();
  }

  /** The valid exemptions (expired ones included: exemptionFor looks at the clock). */
  exemptions(): readonly CompiledExemption[] {
    return this.snapshot;
  }

  private upsert(object: ExemptionObject): void {
    const name = object.metadata?.name ?? '';
    if (name === '') return;
    clearTimeout(this.known.get(name)?.timer);
    if (!this.known.has(name) && this.known.size >= MAX_EXEMPTIONS) {
      this.logger.warn('ImageExemption ignored: too many exemptions', { name, max: MAX_EXEMPTIONS });
      return;
    }
    let compiled: CompiledExemption | undefined;
    let problem: string | undefined;
    try {
      compiled = parseExemption(object);
    } catch (err) {
      problem = describeError(err);
    }
    const timer = compiled === undefined || compiled.expires <= this.now()
      ? undefined
      : setTimeout(() => { this.expired(object); }, Math.min(compiled.expires - this.now() + 50, MAX_TIMER_MS));
    timer?.unref();
    this.known.set(name, { compiled, problem, timer });
    this.rebuild();
    if (problem !== undefined) this.logger.warn('ImageExemption has no effect', { name, problem });
    else this.logger.info('ImageExemption in force', { name, expires: new Date(compiled!.expires).toISOString() });
    void this.writeStatus(object, compiled, problem);
  }

  private expired(object: ExemptionObject): void {
    const name = object.metadata?.name ?? '';
    const known = this.known.get(name);
    if (known?.compiled === undefined) return;
    if (known.compiled.expires > this.now()) {
      this.upsert(object);
      return;
    }
    this.logger.info('ImageExemption expired', { name });
    void this.writeStatus(object, known.compiled, undefined);
  }

  private remove(name: string): void {
    clearTimeout(this.known.get(name)?.timer);
    this.known.delete(name);
    this.rebuild();
  }

  private rebuild(): void {
    this.snapshot = Object.freeze([...this.known.values()].flatMap((k) => (k.compiled === undefined ? [] : [k.compiled])));
  }

  private async writeStatus(object: ExemptionObject, compiled: CompiledExemption | undefined, problem: string | undefined): Promise<void> {
    const name = object.metadata?.name ?? '';
    const expired = compiled !== undefined && compiled.expires <= this.now();
    const condition = {
      type: 'Active',
      status: compiled !== undefined && !expired ? 'True' : 'False',
      reason: problem !== undefined ? 'Invalid' : expired ? 'Expired' : 'Active',
      message: (problem ?? (expired
        ? `expired at ${new Date(compiled.expires).toISOString()}; it has no effect`
        : `admits the images it names, with a warning, until ${new Date(compiled!.expires).toISOString()}`)).slice(0, 1024),
      observedGeneration: object.metadata?.generation ?? 0,
      lastTransitionTime: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    const previous = (object.status as { conditions?: { type?: string; status?: string; reason?: string; message?: string }[] } | undefined)?.conditions?.find((c) => c.type === 'Active');
    if (previous?.status === condition.status && previous.reason === condition.reason && previous.message === condition.message) return;
    const { group, version, exemption } = POLICY_RESOURCES;
    try {
      await this.clients.custom.patchClusterCustomObjectStatus(
        { group, version, plural: exemption.plural, name, body: { status: { conditions: [condition] } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      this.logger.warn('cannot write ImageExemption status', { name, error: describeKubeError(err) });
    }
  }
}
