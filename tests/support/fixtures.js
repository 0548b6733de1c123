// Playwright fixtures shared by the spec files.
//   relay      a real relay on a free port with its own data directory, stopped afterwards;
//              on failure everything it printed is attached to the test's report.
//   relayOptions  options for that relay's startRelay (support/relay.js), default {}; set
//              per file or describe block, e.g. test.use({ relayOptions: { args: [...] } }).
//   yclients   a factory for stock Yjs clients (y-websocket) that are all destroyed afterwards.
//   person     a factory for people using the app: each one is its own browser context (own
//              storage, own network), with its sync socket routed so the test can cut it;
//              on failure their console output and a screenshot are attached.
import { test as base, expect } from '@playwright/test';
import { startRelay } from './relay.js';
import { YClient } from './yjs-client.js';
import { requireBuiltApp, syncLink, watchConsole } from './app.js';

export const test = base.extend({
  relayOptions: [{}, { option: true }],

  relay: async ({ relayOptions }, use, testInfo) => {
    const relay = await startRelay(relayOptions);
    try {
      await use(relay);
    } finally {
      await relay.cleanup();
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('relay output', { body: relay.log(), contentType: 'text/plain' });
      }
    }
  },

  yclients: async ({}, use) => {
    const clients = [];
    const make = (wsUrl, room, options) => {
      const client = new YClient(wsUrl, room, options);
      clients.push(client);
      return client;
    };
    try {
      await use(make);
    } finally {
      for (const client of clients) client.destroy();
    }
  },

  person: async ({ browser, relay }, use, testInfo) => {
    requireBuiltApp();
    const people = [];
    const make = async (label, contextOptions = {}) => {
      const context = await browser.newContext(contextOptions);
      const link = await syncLink(context);
      const page = await context.newPage();
      const log = watchConsole(page, label);
      const someone = { label, context, page, link, log, relay };
      people.push(someone);
      return someone;
    };
    try {
      await use(make);
    } finally {
      const failed = testInfo.status !== testInfo.expectedStatus;
      for (const { label, context, page, log } of people) {
        if (failed) {
          await testInfo.attach(`console of ${label}`, { body: log.join('\n') || '(empty)', contentType: 'text/plain' });
          const shot = await page.screenshot({ fullPage: true, timeout: 5_000 }).catch(() => null);
          if (shot) await testInfo.attach(`screen of ${label}`, { body: shot, contentType: 'image/png' });
        }
        await context.close().catch(() => {});
      }
    }
  },
});

export { expect };
