/**
 * Kubernetes Events (events.k8s.io/v1) for verification failures, on the object they are about,
 * so `kubectl describe` and `kubectl events` show them. The same failure (object, image, policy,
 * reason) is reported once an hour at most: a scan every ten minutes must not flood the API server.
 * Sent off the request path; a failure to send is logged and dropped.
 */
import { randomBytes } from 'node:crypto';
import { EventsV1Event, V1MicroTime, V1ObjectMeta, V1ObjectReference } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { describeKubeError, type KubeClients } from './client.js';
import { EVENT } from './constants.js';
import type { ResourceRef } from './report-shape.js';

const DEDUP_WINDOW_MS = 3_600_000;
const MAX_REMEMBERED = 10_000;

/** How Events are sent: a few at a time, at a steady rate, and a bounded backlog (the rest dropped). */
export const EVENT_LIMITS = { inFlight: 4, perSecond: 20, backlog: 1000 } as const;

export interface FailureEvent {
  readonly regarding: ResourceRef;
  readonly reason: typeof EVENT.failed | typeof EVENT.warned | typeof EVENT.exempted;
  readonly note: string;
  /** What makes two events the same failure (the note may carry a changing detail). */
  readonly key: string;
}

interface Pending {
  readonly event: FailureEvent;
  readonly key: string;
  readonly now: number;
  readonly done: () => void;
}

export class EventRecorder {
  /** Dedup key → when it was last sent; insertion order is age order (re-sent keys move to the end). */
  private readonly sent = new Map<string, number>();
  private readonly backlog: Pending[] = [];
  private inFlight = 0;
  private nextStartAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private dropped = 0;

  constructor(
    private readonly clients: KubeClients,
    private readonly instance: string,
    private readonly logger: Logger,
    private readonly limits: { readonly inFlight: number; readonly perSecond: number; readonly backlog: number } = EVENT_LIMITS,
  ) {}

  /**
   * Sends the event unless the same failure was reported within the hour; never rejects.
   * Resolves once it was sent, failed, or was dropped because the backlog was full (a burst of
   * failures must not become a burst of writes to the API server).
   */
  record(event: FailureEvent, now = Date.now()): Promise<void> {
    const key = `${event.regarding.namespace}/${event.regarding.kind}/${event.regarding.name}|${event.key}`;
    const last = this.sent.get(key);
    if (last !== undefined && now - last < DEDUP_WINDOW_MS) return Promise.resolve();
    if (this.backlog.length >= this.limits.backlog) {
      if (this.dropped++ % this.limits.backlog === 0) {
        this.logger.warn('events dropped: too many to send', { dropped: this.dropped, backlog: this.limits.backlog });
      }
      return Promise.resolve();
    }
    this.sent.delete(key);
    this.sent.set(key, now);
    while (this.sent.size > MAX_REMEMBERED) this.sent.delete(this.sent.keys().next().value!);
    return new Promise<void>((done) => {
      this.backlog.push({ event, key, now, done });
      this.pump();
    });
  }

  /** Starts sends while a slot is free and the rate allows, else waits for the next start time. */
  private pump(): void {
    while (this.backlog.length > 0 && this.inFlight < this.limits.inFlight) {
      const wait = this.nextStartAt - Date.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        this.timer.unref();
        return;
      }
      this.nextStartAt = Date.now() + 1000 / this.limits.perSecond;
      const next = this.backlog.shift()!;
      this.inFlight++;
      void this.send(next.event, next.key, next.now).finally(() => {
        this.inFlight--;
        next.done();
        this.pump();
      });
    }
  }

  private async send(event: FailureEvent, key: string, now: number): Promise<void> {
    const { regarding } = event;
    try {
      const body = Object.assign(new EventsV1Event(), {
        // Named as client-go names events (object name, then the time in hex; a generateName
        // ending in '.' is refused), with random digits so that replicas never collide.
        metadata: Object.assign(new V1ObjectMeta(), { name: `${regarding.name.slice(0, 200)}.${now.toString(16)}${randomBytes(4).toString('hex')}`, namespace: regarding.namespace }),
        // MicroTime serializes with six fractional digits, as the API server parses it.
        eventTime: new V1MicroTime(now),
        reportingController: EVENT.controller,
        reportingInstance: this.instance,
        action: EVENT.action,
        reason: event.reason,
        type: 'Warning',
        note: event.note.length > EVENT.maxNote ? `${event.note.slice(0, EVENT.maxNote - 1)}…` : event.note,
        regarding: Object.assign(new V1ObjectReference(), regarding),
      });
      await this.clients.events.createNamespacedEvent({ namespace: regarding.namespace, body });
    } catch (err) {
      this.sent.delete(key);
      this.logger.warn('cannot create event', { regarding: `${regarding.kind} ${regarding.namespace}/${regarding.name}`, error: describeKubeError(err) });
    }
  }
}
