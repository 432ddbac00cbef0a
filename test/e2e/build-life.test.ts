import { createProject, createWebhook, runBuild } from '../helpers/fixtures';
import { startDeliveryServer } from '../helpers/deliveries';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { connectLiveOk, LiveClient, waitForActiveSubscriptions } from '../helpers/live-client';
import { Receiver, startReceiver } from '../helpers/receiver';
import { TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

const ALL_EVENTS = [
  'BUILD_QUEUED',
  'BUILD_STARTED',
  'BUILD_SUCCEEDED',
  'BUILD_FAILED',
  'PROJECT_CREATED',
  'PROJECT_UPDATED',
  'PROJECT_DELETED',
];

/** One account's whole story seen three ways at once: the webhook receiver, the live subscriber, and the API. */
describe('a build and a project, end to end', () => {
  let server: TestServer;
  let receiver: Receiver;
  let acme: TestAccount;
  let globex: TestAccount;
  let live: LiveClient;
  let otherLive: LiveClient;

  beforeAll(async () => {
    server = await startDeliveryServer();
    receiver = await startReceiver();
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
    live = await connectLiveOk(server.wsUrl, acme.apiKey);
    otherLive = await connectLiveOk(server.wsUrl, globex.apiKey);
  });
  afterAll(async () => {
    await live.close();
    await otherLive.close();
    await server.stop();
    await receiver.close();
  });

  it('delivers every event signed, streams the same bodies live, and reports each attempt live', async () => {
    const webhook = await createWebhook(server.url, acme.apiKey, { url: receiver.url, events: ALL_EVENTS });
    receiver.secret = webhook.secret;
    const events = live.subscribe('subscription { events { id type payload } }');
    const updates = live.subscribe('subscription ($w: ID) { deliveryUpdated(webhookId: $w) { id status attemptCount event { id } } }', {
      w: webhook.id,
    });
    const foreignEvents = otherLive.subscribe('subscription { events { id } }');
    const foreignUpdates = otherLive.subscribe('subscription { deliveryUpdated { id } }');
    await waitForActiveSubscriptions(server.app, 4);

    const project = await createProject(server.url, acme.apiKey, 'Seen Everywhere');
    await runBuild(server.url, acme.apiKey, project.id);
    await gqlOk(server.url, 'mutation ($id: ID!) { deleteProject(id: $id) { deleted } }', { id: project.id }, acme.apiKey);

    const liveEvents = await events.waitForData(5);
    expect(liveEvents.map((data) => data.events.type)).toEqual([
      'PROJECT_CREATED',
      'BUILD_QUEUED',
      'BUILD_STARTED',
      'BUILD_SUCCEEDED',
      'PROJECT_DELETED',
    ]);

    await waitFor(() => receiver.requests.length >= 5, { what: 'five webhook requests' });
    const byEvent = new Map(receiver.requests.map((request) => [request.body.id as string, request]));
    for (const { events: event } of liveEvents) {
      const request = byEvent.get(event.id);
      expect(request).toBeDefined();
      expect(request!.raw.toString('utf8')).toBe(JSON.stringify(event.payload));
      expect(request!.deskforgeValid).toBe(true);
      expect(request!.standardValid).toBe(true);
      expect(request!.headers['webhook-id']).toBe(event.id);
    }

    const succeeded = await waitFor(
      () => {
        const done = updates.data.filter((data) => data.deliveryUpdated.status === 'SUCCEEDED');
        return done.length >= 5 && done;
      },
      { what: 'five SUCCEEDED delivery updates' },
    );
    const deliveredEvents = new Set(succeeded.map((data) => data.deliveryUpdated.event.id));
    expect(deliveredEvents).toEqual(new Set(receiver.requests.map((request) => request.body.id)));
    for (const { deliveryUpdated } of succeeded) {
      expect(deliveryUpdated.attemptCount).toBe(1);
      expect(receiver.forDelivery(deliveryUpdated.id)).toHaveLength(1);
    }

    const stored = await gqlOk(server.url, '{ deliveries(status: SUCCEEDED) { totalCount } }', {}, acme.apiKey);
    expect(stored.deliveries.totalCount).toBe(5);
    expect(foreignEvents.data).toEqual([]);
    expect(foreignUpdates.data).toEqual([]);
  });
});
